"""Tests for fusion: min-max normalisation, score fusion by group, and reciprocal rank fusion."""

from __future__ import annotations

import pytest

from interviewer.fusion import convex_fusion, minmax, reciprocal_rank_fusion


def test_minmax_maps_the_list_onto_zero_to_one() -> None:
    assert minmax([("a", 12.0), ("b", 7.0), ("c", 2.0)]) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert minmax([("only", 0.3)]) == {"only": 1.0}
    assert minmax([("a", 0.8), ("b", 0.8)]) == {"a": 1.0, "b": 1.0}  # a tie: no spread to use
    assert minmax([]) == {}


def test_convex_fusion_is_the_mean_of_normalised_scores() -> None:
    fused = dict(convex_fusion({"vector": [("a", 0.9), ("b", 0.7), ("c", 0.5)], "bm25": [("b", 10.0), ("a", 0.0)]}))
    assert fused == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.0})
    weighted = dict(convex_fusion({"v": [("a", 1.0), ("b", 0.0)], "k": [("b", 1.0), ("a", 0.0)]},
                                  weights={"v": 3.0, "k": 1.0}))
    assert weighted == pytest.approx({"a": 0.75, "b": 0.25})


def test_a_near_tie_in_one_retriever_does_not_outvote_a_clear_margin_in_the_other() -> None:
    # Vector search is sure ("x" far ahead); BM25 barely separates its list, with "x" low in it.
    # RRF sees only positions and lets BM25's order win; score fusion keeps "x" first.
    vector = [("x", 0.95), ("y", 0.60), ("z", 0.58), ("w", 0.57)]
    bm25 = [("y", 10.0), ("z", 9.9), ("w", 9.8), ("x", 9.7), ("v", 1.0)]
    assert convex_fusion({"vector": vector, "bm25": bm25})[0][0] == "x"
    rrf = reciprocal_rank_fusion([[k for k, _ in vector], [k for k, _ in bm25]])
    assert max(rrf, key=rrf.__getitem__) == "y"


def test_records_of_one_group_count_once_and_the_best_record_represents_it() -> None:
    item = {"q/dropout:zh": "dropout", "q/dropout:en": "dropout", "q/bn:zh": "bn", "q/bn:en": "bn", "c/1": "c/1"}
    vector = [("q/dropout:en", 0.9), ("q/bn:en", 0.8), ("q/bn:zh", 0.7), ("q/dropout:zh", 0.6), ("c/1", 0.5)]
    bm25 = [("q/dropout:zh", 5.0), ("q/bn:zh", 1.0)]
    fused = convex_fusion({"vector": vector, "bm25": bm25}, group=item.__getitem__)
    # dropout: its en record's vector score (1.0) and its zh record's BM25 score (1.0) both count;
    # the zh record represents it, being the better one on both lists together (0.25 + 1 vs 1 + 0).
    assert fused == [("q/dropout:zh", pytest.approx(1.0)), ("q/bn:en", pytest.approx(0.375)), ("c/1", 0.0)]


def test_convex_fusion_with_one_empty_list_keeps_the_other_order() -> None:
    fused = convex_fusion({"vector": [("a", 0.9), ("b", 0.8), ("c", 0.1)], "bm25": []})
    assert [key for key, _ in fused] == ["a", "b", "c"]


def test_reciprocal_rank_fusion_arithmetic() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert max(fused, key=fused.__getitem__) == "b"  # found by both lists beats first in one
