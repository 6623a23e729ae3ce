"""Baseline: the DESIGN.md similarity baseline, a small regression on lexical signals scored by
cross-validation grouped by question, so every report shows whether a grader beats it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evals.dataset import EvalRow
from evals.metrics import agreement
from interviewer import similarity

#: The baseline's signals, exactly those DESIGN.md names (the `similarity` grader uses more).
BASELINE_FEATURES: tuple[str, ...] = ("char_cosine", "token_recall", "bm25")
RIDGE_ALPHA = 1.0


def feature_matrix(rows: Sequence[EvalRow], names: Sequence[str]) -> np.ndarray:
    """One row of similarity signals per dataset row (best over its references)."""
    table = []
    for row in rows:
        signals = similarity.features(row.question, [row.reference, *row.references], row.answer, row.lang)
        table.append([signals[name] for name in names])
    return np.asarray(table, dtype=float).reshape(len(rows), len(names))


def grouped_cv_predictions(
    x: np.ndarray, y: np.ndarray, groups: Sequence[str], *, n_splits: int = 5, alpha: float = RIDGE_ALPHA,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray | None:
    """Out-of-fold predictions (clipped to 0..1) of a standardised ridge regression, folds grouped
    by question so no question is both trained and scored on. None with fewer than 2 questions."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_groups = len(set(groups))
    if n_groups < 2:
        return None
    predictions = np.zeros(len(y))
    folds = GroupKFold(n_splits=min(n_splits, n_groups))
    for train, test in folds.split(x, y, groups=list(groups)):
        weights = None if sample_weight is None else {"ridge__sample_weight": sample_weight[train]}
        model = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(x[train], y[train], **(weights or {}))
        predictions[test] = model.predict(x[test])
    return np.clip(predictions, 0.0, 1.0)


def baseline_metrics(rows: Sequence[EvalRow], scored_ids: set[str]) -> dict[str, object]:
    """Fit/score the baseline by grouped CV on all `rows`, then report its agreement on the rows the
    grader scored (`scored_ids`), so both are measured on the same rows."""
    description = {
        "method": "ridge on " + ", ".join(BASELINE_FEATURES) + "; GroupKFold(5) by qid, out-of-fold",
        "features": list(BASELINE_FEATURES),
    }
    qids = [row.qid for row in rows]
    gold = np.asarray([row.gold for row in rows])
    predictions = grouped_cv_predictions(feature_matrix(rows, BASELINE_FEATURES), gold, qids)
    if predictions is None:
        return {**description, "n": 0, "pearson": None, "qwk": None,
                "note": "needs rows from at least 2 questions for grouped cross-validation"}
    keep = [i for i, row in enumerate(rows) if row.id in scored_ids]
    figures = agreement([predictions[i] for i in keep], [gold[i] for i in keep], [qids[i] for i in keep])
    return {**description, "n": len(keep), **figures}
