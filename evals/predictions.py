"""Predictions: the per-row record of a run and its append-only, crash-safe JSONL file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from evals.dataset import EvalRow
from interviewer.grader import Grade

FILENAME = "predictions.jsonl"


class Tokens(BaseModel):
    """Tokens spent on one row."""

    prompt: int = Field(default=0, description="Prompt tokens, cached ones included.")
    cached: int = Field(default=0, description="Prompt tokens served from the server's prefix cache.")
    completion: int = Field(default=0, description="Generated tokens.")


class Prediction(BaseModel):
    """One graded (or failed) row: the gold next to what the grader said."""

    id: str = Field(description="The dataset row's id.")
    qid: str = Field(description="The row's question id.")
    gold: float = Field(description="Gold score on the row's own scale.")
    score_max: float = Field(description="Top of the row's scale.")
    gold_norm: float = Field(description="gold / score_max.")
    predicted: float | None = Field(default=None, description="The grader's score; None if it gave none.")
    predicted_norm: float | None = Field(default=None, description="predicted / score_max.")
    status: str = Field(description="graded, ungraded (the grader declined) or error (it failed).")
    verdicts: list[dict[str, Any]] = Field(default_factory=list, description="Per key point verdicts.")
    flags: list[str] = Field(default_factory=list, description="The grade's flags.")
    confidence: float | None = Field(default=None, description="The grader's confidence, 0..1.")
    tokens: Tokens = Field(default_factory=Tokens, description="Tokens spent.")
    latency: float = Field(default=0.0, description="Seconds the grader took (when it first graded the row).")
    cached: bool = Field(default=False, description="Served from the grade cache instead of graded now.")
    error: str | None = Field(default=None, description="Why there is no score; such rows are retried.")
    answer: str = Field(default="", description="The graded answer, for reports and comparisons.")

    @property
    def done(self) -> bool:
        """Finished for good. Ungraded and failed rows are retried on the next run: an unparseable
        reply or a timed-out endpoint is often transient."""
        return self.status == "graded"

    @classmethod
    def from_grade(cls, row: EvalRow, grade: Grade, *, latency: float, cached: bool) -> Prediction:
        predicted = None if grade.score is None else grade.score * row.score_max / grade.score_max
        return cls(
            **_row_fields(row),
            predicted=predicted,
            predicted_norm=None if predicted is None else predicted / row.score_max,
            status=grade.status,
            verdicts=[v.model_dump() for v in grade.verdicts],
            flags=list(grade.flags),
            confidence=grade.confidence,
            tokens=Tokens(prompt=grade.usage.prompt, cached=grade.usage.cached, completion=grade.usage.completion),
            latency=latency,
            cached=cached,
            error=grade.error if grade.status == "ungraded" else None,
        )

    @classmethod
    def failed(cls, row: EvalRow, error: str, *, latency: float) -> Prediction:
        return cls(**_row_fields(row), status="error", error=error, latency=latency)


def _row_fields(row: EvalRow) -> dict[str, Any]:
    return {"id": row.id, "qid": row.qid, "gold": row.score, "score_max": row.score_max,
            "gold_norm": row.gold, "answer": row.answer}


def read_predictions(path: Path) -> list[Prediction]:
    """Every complete record in `path` (none if it does not exist). A torn last line (the process
    was killed mid-write) and unparseable lines are skipped, never fatal."""
    if not path.exists():
        return []
    records = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(Prediction.model_validate(json.loads(line)))
        except (ValueError, ValidationError):
            continue
    return records


class PredictionLog:
    """Append-only predictions file: each record is flushed and fsynced before the next row, so a
    SIGKILL loses at most the line being written (which `read_predictions` then ignores)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("ab")

    def append(self, record: Prediction) -> None:
        self._file.write(record.model_dump_json().encode() + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def keep_finished(path: Path) -> list[Prediction]:
    """Rewrite `path` with only its finished records (dropping failed rows, which are about to be
    retried, and a torn last line); atomic, so a kill during the rewrite loses nothing."""
    records = read_predictions(path)
    finished = list({r.id: r for r in records if r.done}.values())
    if path.exists() and len(finished) != len(path.read_bytes().splitlines()):
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            handle.writelines(r.model_dump_json().encode() + b"\n" for r in finished)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    return finished
