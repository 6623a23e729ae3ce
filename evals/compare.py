"""Compare: two eval runs side by side, with differences, CI overlap and the rows they disagree on most."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.predictions import FILENAME, read_predictions
from interviewer.errors import DatasetError

COMPARED = ("n", "graded", "ungraded", "pearson", "qwk", "spearman", "spearman_within_question", "mae",
            "rmse", "exact", "within_one", "seconds_per_item_p50", "items_per_minute", "tokens_per_item_mean")


class MetricDiff(BaseModel):
    """One metric in both runs."""

    metric: str
    a: float | None
    b: float | None
    diff: float | None = Field(description="b - a, when both are defined.")
    ci_overlap: bool | None = Field(default=None, description="Whether the 95% bootstrap CIs overlap.")


class RowDiff(BaseModel):
    """A row graded in both runs."""

    id: str
    qid: str
    gold: float = Field(description="Gold, normalised 0..1.")
    a: float = Field(description="Run A's prediction, normalised.")
    b: float = Field(description="Run B's prediction, normalised.")
    answer: str


class Comparison(BaseModel):
    """The result of `interviewer eval compare`."""

    run_a: str
    run_b: str
    same_dataset: bool = Field(description="Both runs graded the same dataset file (by SHA-256).")
    metrics: list[MetricDiff]
    shared_rows: int = Field(description="Rows graded in both runs.")
    disagreements: list[RowDiff] = Field(description="Rows where the runs differ most.")


def _load(run: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        settings = json.loads((run / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{run}: not a finished eval run (metrics.json/settings.json unreadable: {exc})") from exc
    return metrics, settings


def _overlap(a: list[float] | None, b: list[float] | None) -> bool | None:
    if not a or not b:
        return None
    return a[0] <= b[1] and b[0] <= a[1]


def compare_runs(run_a: Path, run_b: Path, *, top: int = 10) -> Comparison:
    metrics_a, settings_a = _load(run_a)
    metrics_b, settings_b = _load(run_b)
    diffs = []
    for key in COMPARED:
        a, b = metrics_a.get(key), metrics_b.get(key)
        diffs.append(MetricDiff(
            metric=key, a=a, b=b, diff=None if a is None or b is None else b - a,
            ci_overlap=_overlap(metrics_a.get(f"{key}_ci95"), metrics_b.get(f"{key}_ci95"))
            if key in ("pearson", "qwk") else None,
        ))
    preds_a = {p.id: p for p in read_predictions(run_a / FILENAME) if p.done}
    preds_b = {p.id: p for p in read_predictions(run_b / FILENAME) if p.done}
    shared = [
        RowDiff(id=i, qid=pa.qid, gold=pa.gold_norm, a=pa.predicted_norm or 0.0,
                b=preds_b[i].predicted_norm or 0.0, answer=pa.answer)
        for i, pa in preds_a.items() if i in preds_b
    ]
    shared.sort(key=lambda r: -abs(r.a - r.b))
    return Comparison(
        run_a=str(run_a), run_b=str(run_b),
        same_dataset=settings_a["dataset"]["sha256"] == settings_b["dataset"]["sha256"],
        metrics=diffs, shared_rows=len(shared), disagreements=shared[:top],
    )
