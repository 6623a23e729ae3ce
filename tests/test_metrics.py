"""Metric functions against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals import metrics


def test_qwk_on_a_small_confusion_matrix() -> None:
    # Bins (round(10*x)): gold [0,0,5,5,10,10], pred [0,5,5,10,10,10]. Weights (i-j)^2/100:
    # w(0,5)=w(5,10)=0.25, w(0,10)=1. Observed off-diagonal pairs (0,5),(5,10): sum w*O = 0.5.
    # Histograms gold {0:2,5:2,10:2}, pred {0:1,5:2,10:3}; expected E_ij = g_i*p_j/6, so
    # sum w*E = (2*2*.25 + 2*3*1 + 2*1*.25 + 2*3*.25 + 2*1*1 + 2*2*.25) / 6 = 12/6 = 2.
    # kappa = 1 - 0.5/2 = 0.75.
    gold = [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    pred = [0.0, 0.5, 0.5, 1.0, 1.0, 1.0]
    assert metrics.qwk(pred, gold) == pytest.approx(0.75)


def test_qwk_of_a_constant_predictor_is_zero_and_perfect_is_one() -> None:
    gold = [0.0, 0.3, 0.5, 0.8, 1.0]
    assert metrics.qwk([1.0] * 5, gold) == pytest.approx(0.0)
    assert metrics.qwk(gold, gold) == pytest.approx(1.0)
    assert metrics.qwk([1.0] * 3, [1.0] * 3) is None  # undefined (0/0), reported as null
    assert metrics.qwk([], []) is None


def test_bins_follow_round_ten_times_normalised_score() -> None:
    assert metrics.to_bins([0.0, 0.04, 0.06, 0.5, 0.94, 1.0]).tolist() == [0, 0, 1, 5, 9, 10]


def test_pearson_and_spearman_by_hand() -> None:
    # deviations p [-1,0,1], g [-4/3,-1/3,5/3]: cov 3, ss_p 2, ss_g 14/3 -> r = 3/sqrt(28/3)
    assert metrics.pearson([1, 2, 3], [1, 2, 4]) == pytest.approx(3 / math.sqrt(28 / 3))
    # ranks p [1,3,2,4], g [1,2,3,4]: sum d^2 = 2 -> rho = 1 - 6*2/(4*15) = 0.8
    assert metrics.spearman([0.1, 0.4, 0.3, 0.9], [0, 0.5, 0.6, 1]) == pytest.approx(0.8)


def test_correlations_of_a_constant_predictor_are_null_not_nan() -> None:
    assert metrics.pearson([0.5, 0.5, 0.5], [0, 0.5, 1]) is None
    assert metrics.spearman([0.5, 0.5, 0.5], [0, 0.5, 1]) is None


def test_error_and_agreement_rates_by_hand() -> None:
    pred, gold = [0.0, 0.5, 1.0, 0.3], [0.1, 0.5, 0.7, 0.3]
    assert metrics.mae(pred, gold) == pytest.approx(0.1)  # (0.1 + 0 + 0.3 + 0) / 4
    assert metrics.rmse(pred, gold) == pytest.approx(math.sqrt(0.025))  # (0.01 + 0.09) / 4
    # bins pred [0,5,10,3] vs gold [1,5,7,3]: equal twice; at most one apart three times
    assert metrics.exact(pred, gold) == pytest.approx(0.5)
    assert metrics.within_one(pred, gold) == pytest.approx(0.75)


def test_spearman_within_question_averages_eligible_questions_only() -> None:
    pred = [0.1, 0.2, 0.3, 0.3, 0.2, 0.1, 0.9, 0.1, 0.2, 0.5, 0.7]
    gold = [0.0, 0.5, 1.0, 0.0, 0.5, 1.0, 1.0, 0.0, 0.4, 0.4, 0.4]
    qids = ["a", "a", "a", "b", "b", "b", "c", "c", "d", "d", "d"]
    # a: perfect (+1), b: reversed (-1), c: only 2 rows, d: constant gold -> mean of (+1, -1) = 0
    assert metrics.spearman_within_question(pred, gold, qids) == pytest.approx(0.0)
    assert metrics.spearman_within_question(pred[:2], gold[:2], qids[:2]) is None


def test_bootstrap_is_deterministic_and_brackets_the_estimate() -> None:
    gold = [i / 20 for i in range(21)]
    pred = [min(1.0, g + (0.2 if i % 3 == 0 else -0.1)) for i, g in enumerate(gold)]
    first = metrics.bootstrap_ci(metrics.pearson, pred, gold)
    assert first == metrics.bootstrap_ci(metrics.pearson, pred, gold)
    assert first is not None and first[0] <= metrics.pearson(pred, gold) <= first[1]  # type: ignore[operator]
    assert metrics.bootstrap_ci(metrics.pearson, pred, gold, seed=7) != first
    assert metrics.bootstrap_ci(metrics.pearson, pred[:2], gold[:2]) is None


def test_human_agreement_uses_rows_with_two_graders() -> None:
    scores = [[1.0, 1.0], [0.0, 0.5], [0.5, 0.5], [1.0], [0.25, 0.0]]
    result = metrics.human_agreement(scores, [1.0] * 5, ["q"] * 5)
    assert result is not None and result["n"] == 4
    assert result["mae"] == pytest.approx((0 + 0.5 + 0 + 0.25) / 4)
    assert metrics.human_agreement([[1.0], [0.0]], [1.0, 1.0], ["q", "q"]) is None


def test_qwk_matches_sklearn_on_random_scores() -> None:
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(1)
    gold, pred = rng.random(200), np.clip(rng.random(200) * 0.5 + 0.3, 0, 1)
    expected = cohen_kappa_score(metrics.to_bins(gold), metrics.to_bins(pred), weights="quadratic")
    assert metrics.qwk(pred, gold) == pytest.approx(expected)
