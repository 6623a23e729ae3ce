"""Wiring: build an interview's collaborators (model, grader functions, sessions, bank) from settings.

The CLI chat and the web UI both start here, so they behave the same: the real grader with the
configured model, falling back to the no-LLM similarity grader (flagged) whenever the model
cannot answer, so an interview is never blocked by a model failure."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from interviewer import grader, similarity
from interviewer.bank import BankItem, QuestionView, RubricPoint, load_bank
from interviewer.config import Settings
from interviewer.errors import InterviewerError
from interviewer.grader import Grade
from interviewer.interview import GradeFn, InterviewDeps, WarmFn
from interviewer.manipulation import default_bank_index
from interviewer.sessions import SessionStore

log = logging.getLogger(__name__)


@dataclass
class ModelStatus:
    """Whether a chat model is available, and what to tell the candidate if not."""

    model: BaseChatModel | None
    problem: str | None = None


def connect_model(settings: Settings) -> ModelStatus:
    """Build the configured chat model (starting the embedded server if none is configured).
    A failure is reported, not raised: the interview then runs on the offline grader."""
    from interviewer.llm import build_chat_model

    try:
        return ModelStatus(build_chat_model(settings))
    except InterviewerError as exc:
        log.warning("chat model unavailable: %s", exc)
        return ModelStatus(None, str(exc))


def model_grader(settings: Settings, model: BaseChatModel | None) -> GradeFn:
    """A grade function for the interview: the LLM grader with the similarity fallback."""

    def grade_answer(view: QuestionView, answer: str, points: list[RubricPoint] | None) -> Grade:
        rubric = points or view.key_points or None
        if model is None:
            result = quick_grade(view, answer, points)
            result.flags = [*result.flags, "fallback_grader"]
            return result
        return grader.grade(
            view.question, answer, references=[view.reference], key_points=rubric, score_max=10,
            model=model, lang=view.lang, citations=[view.source], fallback=True, settings=settings,
        )

    return grade_answer


def model_warm_up(model: BaseChatModel) -> WarmFn:
    """Primes the server's prompt cache with a question's grading prompt while the candidate thinks."""

    def warm(view: QuestionView, points: list[RubricPoint] | None) -> None:
        # The screening's bank index (built once per process, ~2-3 s) is built here, while the
        # candidate thinks, instead of inside the first grade.
        default_bank_index()
        grader.warm_up(view.question, references=[view.reference], key_points=points or view.key_points or None,
                       model=model, lang=view.lang)

    return warm


def quick_grade(view: QuestionView, answer: str, points: list[RubricPoint] | None) -> Grade:
    """The no-LLM grade: milliseconds, used for mock-mode decisions and as the offline grader."""
    return similarity.grade(
        view.question, answer, references=[view.reference], key_points=points or view.key_points or None,
        score_max=10, lang=view.lang,
    )


def interview_items(settings: Settings) -> Sequence[BankItem]:
    """Questions an interview can ask: our curated bank plus the Q&A extracted from ingested
    articles (the grader derives their key points from the reference). A knowledge base that was
    never created is not created here, and one that cannot be read only costs its questions."""
    bank = list(load_bank())
    if settings.chroma_url is None and not settings.chroma_dir.exists():
        return bank
    from interviewer.store import open_store

    try:
        return bank + open_store(settings).article_items()
    except InterviewerError as exc:
        log.warning("articles' questions left out: %s", exc)
        return bank


def build_deps(settings: Settings, *, model: BaseChatModel | None = None, connect: bool = True) -> tuple[
    InterviewDeps, ModelStatus
]:
    """Everything an `Interview` needs. With `connect`, the chat model is built from settings."""
    data_dir = settings.ensure_data_dir()
    status = ModelStatus(model) if model is not None or not connect else connect_model(settings)
    deps = InterviewDeps(
        items=interview_items(settings),
        sessions=SessionStore(data_dir / "sessions.sqlite"),
        grade=model_grader(settings, status.model),
        quick_grade=quick_grade,
        model=status.model,
        warm=model_warm_up(status.model) if status.model is not None else None,
        checkpoint_path=str(data_dir / "checkpoints.sqlite"),
    )
    return deps, status
