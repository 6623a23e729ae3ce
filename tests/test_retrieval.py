"""Tests for hybrid retrieval in the store: reciprocal-rank fusion by item, and the choice between
exact search over cached vectors and Chroma's ANN index for a filtered query."""

from __future__ import annotations

import pytest
from test_store import BANK, SOURCE, FakeEmbedder, _chunks

from interviewer import store as store_module
from interviewer.config import load_settings
from interviewer.store import RRF_K, KnowledgeStore, open_store


@pytest.fixture
def store() -> KnowledgeStore:
    kb = open_store(load_settings(), embedder=FakeEmbedder(), sync_bank=False)
    kb.sync_bank(BANK)
    return kb


def test_item_rrf_returns_each_bank_item_once_with_its_better_language(store: KnowledgeStore) -> None:
    query = "dropout 过拟合 overfitting"
    records = store.search(query, k=6, kinds=("questions",), mode="hybrid-rrf")
    assert [h.item_id for h in records].count("dropout-why") == 2  # record-level RRF: both languages
    hits = store.search(query, k=6, kinds=("questions",), mode="hybrid-rrf-item")
    assert sorted(h.item_id for h in hits) == sorted(item.id for item in BANK)  # each item once
    assert hits[0].item_id == "dropout-why"
    assert hits[0].vector_rank is not None and hits[0].bm25_rank is not None
    assert 0.0 < min(h.score for h in hits) <= max(h.score for h in hits) <= 1.0


def test_item_rrf_score_is_one_when_first_in_both_lists(store: KnowledgeStore) -> None:
    top = store.search("focal loss 解决什么问题", k=1, kinds=("questions",), mode="hybrid-rrf-item")[0]
    assert top.item_id == "focal-loss" and top.score == pytest.approx(1.0)
    second = store.search("focal loss 解决什么问题", k=2, kinds=("questions",), mode="hybrid-rrf-item")[1]
    assert second.score <= (1 / (RRF_K + 2)) / (1 / (RRF_K + 1))  # 2nd item in both lists at best


def test_item_rrf_mixes_articles_and_questions_and_honours_filters(store: KnowledgeStore) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, ["Dropout 为什么有效？随机丢弃神经元，减少共适应。"]), [])
    hits = store.search("dropout 共适应", k=10, mode="hybrid-rrf-item")
    assert {h.kind for h in hits} == {"questions", "articles"}
    zh = store.search("dropout 共适应", k=10, where={"lang": "zh"}, mode="hybrid-rrf-item")
    assert zh and {h.lang for h in zh} == {"zh"}


@pytest.mark.parametrize(
    ("kept", "total", "exact"),
    [
        (1_000, 100_000, True),  # one article of a hundred: exact over its rows, ~1 ms
        (5_000, 100_000, True),
        (20_000, 100_000, False),  # measured: ANN ~8-10 ms, exact ~19-23 ms
        (50_000, 100_000, False),  # {"lang": "zh"}: ANN ~6 ms, exact ~70-90 ms
        (30, 60, True),  # a small store: exact is nearly free whatever the share
    ],
)
def test_the_cheaper_vector_path_is_chosen_by_the_filters_selectivity(kept: int, total: int, exact: bool) -> None:
    # What `_vector_ranking` asks Chroma for: 50 results per kind, over-fetched by 1.5 / share.
    fetch = 2 * int(50 * 1.5 * total / kept + 1)
    assert store_module._exact_is_cheaper(kept, fetch) is exact


def test_a_broad_filter_goes_to_the_ann_index_and_a_narrow_one_to_exact_search(
    store: KnowledgeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, ["梯度爆炸怎么办？用梯度裁剪。"] * 4), [])
    exact_calls: list[int] = []
    nearest = type(store.search_index()).nearest

    def counting(index: object, vector: object, n: int, mask: object) -> object:
        exact_calls.append(n)
        return nearest(index, vector, n, mask)  # type: ignore[arg-type]

    monkeypatch.setattr(type(store.search_index()), "nearest", counting)
    store.search("梯度爆炸", k=3, where={"lang": "zh"}, mode="vector")
    assert len(exact_calls) == 1  # a few rows: exact
    monkeypatch.setattr(store_module, "_exact_is_cheaper", lambda kept, fetch: False)
    hits = store.search("梯度爆炸", k=3, where={"lang": "zh"}, mode="vector")
    assert len(exact_calls) == 1 and hits and {h.lang for h in hits} == {"zh"}  # ANN, post-filtered
