"""Graders: the registry of graders the harness can run, each with an identity for the cache key."""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

from evals.dataset import EvalRow
from interviewer.config import Settings
from interviewer.errors import ConfigError
from interviewer.grader import Grade


class Grader(Protocol):
    """What the harness needs from a grader. `grade` may be called from several threads."""

    name: str

    def identity(self) -> dict[str, str]:
        """grader, model, prompt version, params hash: everything that changes its grades."""
        ...

    def grade(self, row: EvalRow) -> Grade: ...


def identity_hash(identity: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


class SimilarityGrader:
    """The no-LLM grader: lexical signals -> the fitted regression (interviewer.similarity)."""

    name = "similarity"

    def identity(self) -> dict[str, str]:
        from interviewer import similarity

        return {"grader": self.name, "model": "", "prompt_version": similarity.params_version(), "params": ""}

    def grade(self, row: EvalRow) -> Grade:
        from interviewer import similarity

        return similarity.grade(
            row.question, row.answer, references=[row.reference, *row.references],
            score_max=row.score_max, lang=row.lang,
        )


class LLMGrader:
    """The LLM grader (interviewer.grader.grade) on the configured endpoint or the embedded model.
    The chat model is built on the first row that is not cached, so a fully cached run never
    starts a model server."""

    name = "llm"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: Any = None
        self._lock = threading.Lock()

    def _configured_model(self) -> str:
        s = self.settings
        if s.model:
            return s.model
        if s.uses_embedded_model:
            return f"embedded:{s.model_path.name if s.model_path else s.local_model}"
        return "gpt-4o-mini" if not s.openai_base_url else "default"

    def identity(self) -> dict[str, str]:
        from interviewer import grader, similarity

        return {
            "grader": self.name,
            "model": self._configured_model(),
            "endpoint": self.settings.openai_base_url or ("openai" if self.settings.openai_api_key else "embedded"),
            "prompt_version": str(getattr(grader, "PROMPT_VERSION", "")),
            # the grader may blend in the similarity signals, so their parameters matter too
            "params": similarity.params_version(),
        }

    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                from interviewer.llm import build_chat_model

                self._model = build_chat_model(self.settings)
            return self._model

    def grade(self, row: EvalRow) -> Grade:
        from interviewer.grader import grade

        return grade(
            row.question, row.answer, references=[row.reference, *row.references],
            score_max=row.score_max, model=self.model(), lang=row.lang, settings=self.settings,
        )

    def close(self) -> None:
        """Tell the embedded server this process no longer needs it (it exits once unused)."""
        if self._model is not None and self.settings.uses_embedded_model:
            from interviewer import local_model

            local_model.release(self.settings)


_REGISTRY: dict[str, Callable[[Settings], Grader]] = {
    "similarity": lambda settings: SimilarityGrader(),
    "llm": LLMGrader,
}


def register(name: str, factory: Callable[[Settings], Grader]) -> None:
    """Add a grader under `name` (used by plug-ins and tests)."""
    _REGISTRY[name] = factory


def names() -> list[str]:
    return sorted(_REGISTRY)


def get_grader(name: str, settings: Settings) -> Grader:
    """A registered grader by name, or `module:attribute` naming a factory taking the settings
    (so a new grader can be evaluated without editing this registry)."""
    if name in _REGISTRY:
        return _REGISTRY[name](settings)
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"grader {name!r} cannot be imported: {exc}") from exc
        return factory(settings)  # type: ignore[no-any-return,unused-ignore]
    raise ConfigError(f"unknown grader {name!r}; choose one of {', '.join(names())} or give module:factory")
