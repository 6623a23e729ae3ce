"""Tests for fusion: min-max normalisation, score fusion by group, reciprocal rank fusion of records
and of groups."""

from __future__ import annotations

import pytest

from interviewer.fusion import convex_fusion, grouped_ranking, grouped_rrf, minmax, reciprocal_rank_fusion


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


ITEM = {"q/dropout:zh": "dropout", "q/dropout:en": "dropout", "q/bn:zh": "bn", "q/bn:en": "bn",
        "q/l1:zh": "l1", "q/l1:en": "l1", "c/1": "c/1", "c/2": "c/2"}


def test_grouped_ranking_keeps_each_group_once_at_its_best_place_and_cuts_by_groups() -> None:
    ranking = [("q/dropout:en", 0.9), ("q/dropout:zh", 0.8), ("q/bn:zh", 0.7), ("c/1", 0.6), ("q/bn:en", 0.5)]
    assert grouped_ranking(ranking, ITEM.__getitem__, depth=50) == ["dropout", "bn", "c/1"]
    assert grouped_ranking(ranking, ITEM.__getitem__, depth=2) == ["dropout", "bn"]  # 2 groups, 3 records


def test_grouped_rrf_ranks_count_distinct_items_so_a_twin_takes_no_place() -> None:
    # Vector search ranks both languages of dropout first; bn is the 2nd item, not the 3rd record.
    vector = [("q/dropout:en", 0.9), ("q/dropout:zh", 0.89), ("q/bn:zh", 0.7)]
    bm25 = [("q/bn:zh", 9.0), ("q/dropout:zh", 5.0)]
    fused = dict(grouped_rrf({"vector": vector, "bm25": bm25}, group=ITEM.__getitem__, k=60))
    assert fused == pytest.approx({"q/dropout:zh": 1 / 61 + 1 / 62, "q/bn:zh": 1 / 62 + 1 / 61})


def test_both_languages_of_one_item_count_once_per_list() -> None:
    # dropout's en record tops the vector list and its zh record tops BM25: one item, first in both.
    vector = [("q/dropout:en", 0.9), ("q/bn:en", 0.8), ("q/dropout:zh", 0.7)]
    bm25 = [("q/dropout:zh", 7.0), ("q/bn:zh", 6.0), ("q/dropout:en", 1.0)]
    fused = grouped_rrf({"vector": vector, "bm25": bm25}, group=ITEM.__getitem__, k=60)
    assert [ITEM[key] for key, _ in fused] == ["dropout", "bn"]  # each item once
    assert fused[0][1] == pytest.approx(2 / 61)  # not 2/61 plus the twins' 1/63 each
    assert fused[1][1] == pytest.approx(2 / 62)


def test_the_representative_record_is_the_best_by_its_own_ranks() -> None:
    # dropout:zh is 2nd and 1st as a record, dropout:en 1st and absent: zh represents the item.
    vector = [("q/dropout:en", 0.9), ("q/dropout:zh", 0.8)]
    bm25 = [("q/dropout:zh", 3.0)]
    assert grouped_rrf({"vector": vector, "bm25": bm25}, group=ITEM.__getitem__)[0][0] == "q/dropout:zh"


def test_an_item_found_by_one_retriever_only_still_counts() -> None:
    vector = [("q/l1:en", 0.9), ("q/bn:en", 0.8)]
    bm25 = [("q/bn:zh", 4.0), ("c/1", 2.0)]
    fused = dict(grouped_rrf({"vector": vector, "bm25": bm25}, group=ITEM.__getitem__, k=60))
    assert fused["q/l1:en"] == pytest.approx(1 / 61)  # vector only
    assert fused["c/1"] == pytest.approx(1 / 62)  # BM25 only; an article chunk is its own group
    assert max(fused, key=fused.__getitem__) in {"q/bn:en", "q/bn:zh"}  # found by both wins
    assert grouped_rrf({"vector": vector, "bm25": []}, group=ITEM.__getitem__) == [
        ("q/l1:en", pytest.approx(1 / 61)), ("q/bn:en", pytest.approx(1 / 62))
    ]


def test_ties_are_broken_by_key_so_results_are_repeatable() -> None:
    # Mirror-image lists: both items score 1/61 + 1/62, and whichever order the lists come in,
    # the smaller key goes first; between records of one item, the smaller key represents it.
    a = [("c/2", 1.0), ("c/1", 0.5)]
    b = [("c/1", 1.0), ("c/2", 0.5)]
    assert [key for key, _ in grouped_rrf({"x": a, "y": b})] == ["c/1", "c/2"]
    assert [key for key, _ in grouped_rrf({"x": b, "y": a})] == ["c/1", "c/2"]
    twins = grouped_rrf({"x": [("q/bn:zh", 1.0)], "y": [("q/bn:en", 1.0)]}, group=ITEM.__getitem__)
    assert twins == [("q/bn:en", pytest.approx(2 / 61))]


def test_grouped_rrf_cuts_every_list_at_the_same_number_of_items() -> None:
    # Vector search pairs languages (3 records = 2 items); BM25 does not (3 records = 3 items).
    # At depth 2 l1, 3rd in BM25, must not gain a place the vector list cannot give its 3rd item.
    vector = [("q/dropout:en", 0.9), ("q/dropout:zh", 0.8), ("q/bn:en", 0.7), ("c/2", 0.6)]
    bm25 = [("q/bn:zh", 5.0), ("c/1", 4.0), ("q/l1:zh", 3.0)]
    fused = dict(grouped_rrf({"vector": vector, "bm25": bm25}, group=ITEM.__getitem__, depth=2))
    assert set(fused) == {"q/dropout:en", "q/bn:zh", "c/1"}
    assert fused["q/bn:zh"] == pytest.approx(1 / 62 + 1 / 61)
