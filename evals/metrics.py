"""Metrics: agreement between predicted and gold scores (normalised to 0..1), with bootstrap CIs."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

BINS = 11  # round(10 * score / score_max): the native steps of 0-5-by-0.5 and 0-10 integer scales
BOOTSTRAP_SEED = 20240601
BOOTSTRAP_ROUNDS = 1000

Metric = Callable[[np.ndarray, np.ndarray], float | None]


def to_bins(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Normalised scores (0..1) to the 11 steps 0..10 used by QWK, exact and within-one."""
    return np.clip(np.rint(np.asarray(values, dtype=float) * (BINS - 1)), 0, BINS - 1).astype(int)


def _finite(value: float) -> float | None:
    # NaN (e.g. correlation with a constant predictor) becomes None -> JSON null, never a number.
    return None if value is None or not math.isfinite(value) else float(value)


def pearson(pred: Sequence[float] | np.ndarray, gold: Sequence[float] | np.ndarray) -> float | None:
    p, g = np.asarray(pred, float), np.asarray(gold, float)
    if len(p) < 2 or np.ptp(p) == 0 or np.ptp(g) == 0:
        return None
    return _finite(np.corrcoef(p, g)[0, 1])


def spearman(pred: Sequence[float] | np.ndarray, gold: Sequence[float] | np.ndarray) -> float | None:
    from scipy.stats import spearmanr

    p, g = np.asarray(pred, float), np.asarray(gold, float)
    if len(p) < 2 or np.ptp(p) == 0 or np.ptp(g) == 0:
        return None
    return _finite(spearmanr(p, g).statistic)


_WEIGHTS = np.subtract.outer(np.arange(BINS), np.arange(BINS)) ** 2 / (BINS - 1) ** 2


def qwk(pred: Sequence[float] | np.ndarray, gold: Sequence[float] | np.ndarray) -> float | None:
    """Quadratic weighted kappa on the 11 bins: 1 - sum(w*O) / sum(w*E), with O the confusion
    matrix and E the one expected by chance from the two histograms. A constant predictor scores 0
    (O equals E); None when undefined (both sides constant and equal, or no rows).

    Written out with numpy rather than sklearn's cohen_kappa_score (to which the tests compare it)
    because the bootstrap calls it thousands of times per run and sklearn's argument validation
    made that take seconds."""
    if len(pred) == 0:
        return None
    g, p = to_bins(gold), to_bins(pred)
    observed = np.zeros((BINS, BINS))
    np.add.at(observed, (g, p), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(g)
    denominator = float((_WEIGHTS * expected).sum())
    if denominator == 0:
        return None
    return _finite(1.0 - float((_WEIGHTS * observed).sum()) / denominator)


def mae(pred: Sequence[float] | np.ndarray, gold: Sequence[float] | np.ndarray) -> float | None:
    if len(pred) == 0:
        return None
    return float(np.mean(np.abs(np.asarray(pred, float) - np.asarray(gold, float))))


def rmse(pred: Sequence[float] | np.ndarray, gold: Sequence[float] | np.ndarray) -> float | None:
    if len(pred) == 0:
        return None
    return float(np.sqrt(np.mean((np.asarray(pred, float) - np.asarray(gold, float)) ** 2)))


def exact(pred: Sequence[float] | np.ndarray, gold: Sequence[float] | np.ndarray) -> float | None:
    """Share of rows in the same 11-step bin."""
    if len(pred) == 0:
        return None
    return float(np.mean(to_bins(pred) == to_bins(gold)))


def within_one(pred: Sequence[float] | np.ndarray, gold: Sequence[float] | np.ndarray) -> float | None:
    """Share of rows at most one 11-step bin apart."""
    if len(pred) == 0:
        return None
    return float(np.mean(np.abs(to_bins(pred) - to_bins(gold)) <= 1))


def spearman_within_question(
    pred: Sequence[float], gold: Sequence[float], qids: Sequence[str], *, min_rows: int = 3
) -> float | None:
    """Mean Spearman over questions with >= min_rows rows and non-constant scores on both sides:
    does the grader rank answers to the same question the way humans do?"""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, qid in enumerate(qids):
        groups[qid].append(index)
    values = []
    for indices in groups.values():
        if len(indices) < min_rows:
            continue
        value = spearman([pred[i] for i in indices], [gold[i] for i in indices])
        if value is not None:
            values.append(value)
    return float(np.mean(values)) if values else None


def bootstrap_ci(
    metric: Metric,
    pred: Sequence[float],
    gold: Sequence[float],
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> list[float] | None:
    """Percentile bootstrap interval of `metric`, resampling rows with a fixed seed (same input ->
    same interval). Resamples where the metric is undefined are dropped."""
    p, g = np.asarray(pred, float), np.asarray(gold, float)
    if len(p) < 3:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        index = rng.integers(0, len(p), len(p))
        value = metric(p[index], g[index])
        if value is not None:
            values.append(value)
    if len(values) < rounds / 2:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


def agreement(
    pred: Sequence[float], gold: Sequence[float], qids: Sequence[str], *, with_ci: bool = True
) -> dict[str, object]:
    """Every agreement figure between two score lists (normalised 0..1), as JSON-ready values."""
    result: dict[str, object] = {
        "pearson": pearson(pred, gold),
        "spearman": spearman(pred, gold),
        "qwk": qwk(pred, gold),
        "mae": mae(pred, gold),
        "rmse": rmse(pred, gold),
        "exact": exact(pred, gold),
        "within_one": within_one(pred, gold),
        "spearman_within_question": spearman_within_question(pred, gold, qids),
    }
    if with_ci:
        result["pearson_ci95"] = bootstrap_ci(pearson, pred, gold)
        result["qwk_ci95"] = bootstrap_ci(qwk, pred, gold)
    return result


def human_agreement(
    scores: Sequence[Sequence[float]], score_max: Sequence[float], qids: Sequence[str]
) -> dict[str, object] | None:
    """The same figures between the first two human graders, over rows scored by 2+ graders;
    None when no row has two."""
    pairs = [(s[0] / m, s[1] / m, q) for s, m, q in zip(scores, score_max, qids, strict=True) if len(s) >= 2]
    if not pairs:
        return None
    first, second, pair_qids = (list(x) for x in zip(*pairs, strict=True))
    return {"n": len(pairs), **agreement(second, first, pair_qids)}


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None
