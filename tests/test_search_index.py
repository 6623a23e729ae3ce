"""Tests for the search index's tokenizer: English stemming, British spellings, glossary abbreviations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from interviewer.glossary import ABBREVIATIONS
from interviewer.search_index import Document, SearchIndex, tokenize


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("features", "feature"),
        ("normalising over the batch", "normalization of a batch"),
        ("regularisation", "regularization"),
        ("gradients underflowing", "gradient underflow"),
    ],
)
def test_english_inflections_and_spellings_meet(a: str, b: str) -> None:
    assert set(tokenize(a)) & set(tokenize(b)), (tokenize(a), tokenize(b))


def test_chinese_and_mixed_tokens_are_not_stemmed() -> None:
    assert {"梯度消失", "relu", "l2"} <= set(tokenize("梯度消失 ReLU L2"))


@pytest.mark.parametrize(
    ("spelled_out", "abbreviation"),
    [
        ("area under the receiver operating characteristic", "roc"),
        ("受试者工作特征曲线", "roc"),
        ("Long Short-Term Memory networks", "lstm"),
        ("training in half precision", "fp16"),
        ("k-nearest neighbors", "knn"),
    ],
)
def test_spelled_out_glossary_phrases_add_their_abbreviation(spelled_out: str, abbreviation: str) -> None:
    tokens = tokenize(spelled_out)
    assert tokens.count(abbreviation) == 1, tokens


def test_words_of_a_phrase_alone_add_no_abbreviation() -> None:
    assert "oom" not in tokenize("memory usage grows")  # "out of memory" needs all its words
    assert "roc" not in tokenize("operating system characteristic")
    assert not {"roc", "auc"} & set(tokenize("ordinary text about curves and areas"))


def test_glossary_abbreviations_are_lowercase_and_have_phrases() -> None:
    for abbreviation, phrases in ABBREVIATIONS.items():
        assert abbreviation == abbreviation.lower() and phrases, abbreviation


def test_bm25_finds_an_abbreviated_document_from_the_spelled_out_query() -> None:
    vec = np.ones(4, dtype=np.float32) / 2
    docs = [
        Document("roc", "ROC 曲线与 AUC 的含义", "s", vec),
        Document("dropout", "dropout 随机丢弃神经元，减少共适应", "s", vec),
        Document("bn", "batch statistics at inference time", "s", vec),
    ]
    index = SearchIndex.empty().add(docs)
    # The query shares no word with the ROC document: only the glossary connects them.
    assert [key for key, _ in index.top("what does the receiver operating characteristic show", 3)] == ["roc"]


def test_a_cached_index_from_another_tokenizer_is_not_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: the store updates a cached index segment by segment, so an index tokenised by
    # an older tokenizer kept its old terms for every unchanged article after an upgrade.
    import interviewer.search_index as search_index

    index = SearchIndex.empty().add([Document("a", "dropout features", "s", np.ones(2, dtype=np.float32))])
    index.save(tmp_path / "i.npz", "key")
    assert SearchIndex.load(tmp_path / "i.npz") is not None
    monkeypatch.setattr(search_index, "TOKENIZER_VERSION", "another-tokenizer")
    assert SearchIndex.load(tmp_path / "i.npz") is None
