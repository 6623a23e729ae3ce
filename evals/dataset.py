"""Dataset: reading a grading dataset (JSONL rows as in DESIGN.md), reporting bad lines, ordering rows."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interviewer.errors import DatasetError


class EvalRow(BaseModel):
    """One human-scored answer. Extra keys in the file are kept (and ignored by the harness)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, description="Unique within the dataset.")
    qid: str = Field(min_length=1, description="Question id: rows with the same qid share a question.")
    question: str = Field(description="The question asked.")
    reference: str = Field(description="The reference answer the gold score was given against.")
    answer: str = Field(description="The candidate's answer that was scored.")
    score: float = Field(ge=0, description="The gold score, 0..score_max.")
    score_max: float = Field(gt=0, description="Top of this question's scale.")
    scores: list[float] = Field(default_factory=list, description="Each human grader's score, if several.")
    lang: str = Field(default="", description="zh or en; guessed from the question when absent.")
    references: list[str] = Field(default_factory=list, description="Alternative reference answers.")

    @model_validator(mode="before")
    @classmethod
    def _coerce_ids(cls, data: Any) -> Any:
        # Numeric ids/qids are common in exported sets; they are labels, so keep them as text.
        if isinstance(data, dict):
            for key in ("id", "qid"):
                if isinstance(data.get(key), int | float) and not isinstance(data.get(key), bool):
                    data = {**data, key: str(data[key])}
        return data

    @model_validator(mode="after")
    def _check_scores(self) -> EvalRow:
        if self.score > self.score_max:
            raise ValueError(f"score {self.score} is above score_max {self.score_max}")
        if not self.scores:
            self.scores = [self.score]
        bad = [s for s in self.scores if not 0 <= s <= self.score_max]
        if bad:
            raise ValueError(f"scores {bad} fall outside 0..score_max ({self.score_max})")
        if not self.lang:
            self.lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in self.question) else "en"
        return self

    @property
    def gold(self) -> float:
        """The gold score normalised to 0..1."""
        return self.score / self.score_max

    def content_hash(self) -> str:
        """SHA-256 of everything a grader sees and the gold: changes when the row changes."""
        payload = {k: getattr(self, k) for k in ("question", "reference", "references", "answer",
                                                  "score_max", "lang")}
        payload["rubric"] = (self.model_extra or {}).get("rubric")
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class LineProblem(BaseModel):
    """A dataset line that was skipped, and why."""

    line: int = Field(description="1-based line number in the file.")
    reason: str = Field(description="What is wrong with it.")


class Dataset(BaseModel):
    """The valid rows of a dataset file (in file order) plus the lines that were skipped."""

    path: Path
    sha256: str = Field(description="SHA-256 of the file's bytes.")
    rows: list[EvalRow]
    problems: list[LineProblem] = Field(default_factory=list)


def _parse_line(raw: bytes) -> EvalRow:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start}); re-save the file as UTF-8") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    try:
        return EvalRow.model_validate(data)
    except ValidationError as exc:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "row"
            parts.append("missing field " + where if error["type"] == "missing" else f"{where}: {error['msg']}")
        raise ValueError("; ".join(parts)) from exc


def load_dataset(path: Path) -> Dataset:
    """Read a JSONL dataset; bad lines are collected with their line number and skipped. Raises
    DatasetError when the file is missing or has no valid row."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: dataset file not found; pass the path of a .jsonl file") from exc
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the dataset: {exc.strerror}") from exc
    rows: list[EvalRow] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            row = _parse_line(raw)
        except ValueError as exc:
            problems.append(LineProblem(line=number, reason=str(exc)))
            continue
        if row.id in seen:
            problems.append(LineProblem(line=number, reason=f"duplicate id {row.id!r} (first on line {seen[row.id]})"))
            continue
        seen[row.id] = number
        rows.append(row)
    if not rows:
        detail = f"; first problem: line {problems[0].line}: {problems[0].reason}" if problems else ""
        raise DatasetError(
            f"{path}: no valid row (expected JSON lines with id, qid, question, reference, answer, "
            f"score, score_max){detail}"
        )
    return Dataset(path=path, sha256=hashlib.sha256(data).hexdigest(), rows=rows, problems=problems)


def select_rows(
    rows: list[EvalRow], *, limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[EvalRow]:
    """Apply --sample (random, reproducible by seed) then --limit (first N in file order), and
    order the result grouped by question so a model server can reuse the shared prompt prefix."""
    chosen = list(rows)
    if sample is not None and sample < len(chosen):
        keep = {row.id for row in random.Random(seed).sample(chosen, sample)}
        chosen = [row for row in chosen if row.id in keep]
    if limit is not None:
        chosen = chosen[:limit]
    return group_by_question(chosen)


def group_by_question(rows: list[EvalRow]) -> list[EvalRow]:
    """Stable grouping: questions in order of first appearance, rows in file order within each."""
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        first.setdefault(row.qid, index)
    return sorted(rows, key=lambda row: first[row.qid])
