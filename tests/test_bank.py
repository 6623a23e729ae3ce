"""The curated question bank: every item validates against the schema, and the bank is broad enough."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from interviewer.bank import KNOWLEDGE_DIR, BankItem, check_bank, load_bank, load_bank_file, load_topics
from interviewer.errors import BankError

BANK_FILES = sorted((KNOWLEDGE_DIR / "bank").glob("*.yaml"))


@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.name)
def test_every_bank_file_validates(path: Path) -> None:
    items = load_bank_file(path)
    assert items, f"{path.name} holds no items"
    for item in items:
        assert item.origin == "bank"
        assert item.zh is not None and item.en is not None
        assert path.stem == item.topic, f"{item.id} is filed under {path.name} but has topic {item.topic}"


def test_bank_size_and_topic_breadth() -> None:
    bank = load_bank()
    topics = Counter(item.topic for item in bank)
    assert len(bank) >= 150
    assert len(topics) >= 25
    assert min(topics.values()) >= 3, f"thin topics: {[t for t, n in topics.items() if n < 3]}"
    assert {t.slug for t in load_topics()} == set(topics), "every listed topic has questions"


def test_topics_the_seed_articles_ask_about_are_covered() -> None:
    text = " ".join(
        " ".join([item.en.question, item.en.reference, *item.tags])  # type: ignore[union-attr]
        for item in load_bank()
    ).lower()
    # Each entry: alternatives, any of which counts (spellings differ between items).
    must_mention = [
        "smote", "augmentation", "overfitting", "l1", "l2", "l0", "relu", "sigmoid", "vanishing",
        "exploding", "xavier", "kaiming|he initiali", "adam", "momentum", "batch size", "dropout",
        "batchnorm|batch norm", "transfer", "lstm", "gru", "bilstm|bidirectional", "attention", "focal",
        "cross-entropy", "mse", "roc", "auc", "u-net", "yolo", "faster r-cnn", "roi align", "mask r-cnn",
        "autoencoder", "vae", "gan", "diffusion", "decision tree", "svm", "bayes", "quantization|quantisation",
        "distillation", "gpu", "reinforcement", "imitation",
    ]
    missing = [term for term in must_mention if not any(alt in text for alt in term.split("|"))]
    assert not missing, f"no bank item mentions: {missing}"


def test_key_point_views_keep_weights_and_ids() -> None:
    item = load_bank()[0]
    zh, en = item.view("zh"), item.view("en")
    assert [p.weight for p in zh.key_points] == [p.weight for p in en.key_points]
    assert [p.id for p in zh.key_points] == [f"k{i + 1}" for i in range(len(item.key_points))]
    assert all(p.follow_up for p in zh.key_points + en.key_points)
    assert zh.lang == "zh" and en.lang == "en"


def _minimal_item(**overrides: object) -> dict:
    point = {"point": "a point", "covers": "says it", "follow_up": "why?"}
    row: dict = {
        "id": "x-1",
        "topic": "dropout",
        "zh": {"question": "为什么要这样做？", "reference": "因为这样做可以减少过拟合。"},
        "en": {"question": "Why do that?", "reference": "Because it reduces overfitting."},
        "key_points": [{"weight": 2, "zh": point, "en": point}] * 3,
    }
    row.update(overrides)
    return row


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"key_points": []}, "3-6 key points"),
        ({"en": None}, "both zh and en"),
        ({"difficulty": 4}, "difficulty"),
        ({"id": "Bad Id"}, "id"),
    ],
)
def test_schema_rejects_malformed_items(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BankItem.model_validate(_minimal_item(**overrides))


def test_article_items_need_one_language_and_no_key_points() -> None:
    item = BankItem.model_validate(
        _minimal_item(origin="article", source="a.txt", en=None, key_points=[])
    )
    assert item.view("en").lang == "zh"  # falls back to the language it has


def test_bad_files_name_the_file_and_item(tmp_path: Path) -> None:
    broken = tmp_path / "dropout.yaml"
    broken.write_text("- id: x\n  topic: dropout\n", encoding="utf-8")
    with pytest.raises(BankError, match=r"dropout.yaml: item x"):
        load_bank_file(broken)
    garbage = tmp_path / "g.yaml"
    garbage.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(BankError, match="cannot read"):
        load_bank_file(garbage)


def test_duplicate_ids_and_unknown_topics_are_refused() -> None:
    item = BankItem.model_validate(_minimal_item())
    topics = load_topics()
    with pytest.raises(BankError, match="duplicate"):
        check_bank([item, item], topics)
    with pytest.raises(BankError, match="unknown topic"):
        check_bank([item.model_copy(update={"topic": "astrology"})], topics)


def test_topics_file_is_well_formed() -> None:
    rows = yaml.safe_load((KNOWLEDGE_DIR / "topics.yaml").read_text(encoding="utf-8"))
    slugs = [row["slug"] for row in rows]
    assert len(slugs) == len(set(slugs)) >= 25
