"""The similarity signals and the no-LLM `similarity` grader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import DATASETS

from evals.baseline import feature_matrix
from evals.dataset import load_dataset
from evals.metrics import pearson
from interviewer import similarity
from interviewer.bank import RubricPoint
from interviewer.errors import ConfigError

REF_EN = (
    "Dropout randomly zeroes units during training, so units cannot co-adapt. "
    "At inference nothing is dropped and activations are scaled to keep their expectation."
)
REF_ZH = "训练时 Dropout 随机将神经元输出置零，防止神经元之间共适应；推理时不丢弃，并按保留概率缩放激活。"


def test_token_recall_and_precision_by_hand() -> None:
    # reference terms (stop words dropped, plurals folded): dropout, randomly, zeroe, unit, training
    signals = similarity.features("q", "dropout randomly zeroes units during training", "dropout zeroes units")
    assert signals["token_recall"] == pytest.approx(3 / 5)
    assert signals["token_precision"] == pytest.approx(1.0)


def test_identical_answer_maxes_every_overlap_signal() -> None:
    signals = similarity.features("Why dropout?", REF_EN, REF_EN)
    for name in ("char_cosine", "token_recall", "token_precision", "bm25"):
        assert signals[name] == pytest.approx(1.0), name
    assert signals["log_length_ratio"] == pytest.approx(0.0)


def test_unrelated_answer_scores_low_on_every_signal() -> None:
    signals = similarity.features("Why dropout?", REF_EN, "Paris is the capital of France, famous for food.")
    assert signals["token_recall"] == 0 and signals["bm25"] == 0
    assert signals["char_cosine"] < 0.2


def test_chinese_text_is_tokenised_into_words() -> None:
    tokens = similarity.tokenize("推理时不丢弃神经元")
    assert "神经元" in tokens and "的" not in tokens
    partial = similarity.features("Dropout 的作用？", REF_ZH, "随机将神经元置零，防止共适应")
    assert 0.2 < partial["token_recall"] < 1.0


def test_best_reference_wins() -> None:
    one = similarity.features("q", ["completely different text about cats", REF_EN], REF_EN)
    assert one["token_recall"] == pytest.approx(1.0)


def test_keypoint_coverage_is_weighted() -> None:
    points = [RubricPoint(id="k1", weight=3, text="units cannot co-adapt"),
              RubricPoint(id="k2", weight=1, text="scaled activations at inference")]
    signals = similarity.features("q", REF_EN, "units cannot co-adapt", key_points=points)
    assert signals["keypoint_coverage"] == pytest.approx(3 / 4)


@pytest.mark.parametrize("answer", ["", "   \n\t "])
def test_empty_answer_scores_zero(answer: str) -> None:
    grade = similarity.grade("Why dropout?", answer, references=[REF_EN], score_max=10)
    assert grade.status == "graded" and grade.score == 0 and grade.flags == ["empty"]


@pytest.mark.parametrize(
    ("question", "reference", "strong", "weak"),
    [
        ("Why does dropout reduce overfitting?", REF_EN,
         "During training dropout randomly zeroes units so they cannot co-adapt; at inference no units are "
         "dropped and activations are scaled.", "It makes the network faster."),
        ("Dropout 为什么能缓解过拟合？", REF_ZH, "训练时随机把神经元输出置零，防止共适应；推理时不丢弃，按概率缩放。",
         "可以让模型训练更快。"),
    ],
)
def test_strong_answer_beats_weak_answer(question: str, reference: str, strong: str, weak: str) -> None:
    good = similarity.grade(question, strong, references=[reference], score_max=10)
    bad = similarity.grade(question, weak, references=[reference], score_max=10)
    assert good.score is not None and bad.score is not None
    assert good.score > bad.score + 2
    assert good.grader == "similarity" and good.prompt_version.startswith("similarity-")


def test_hostile_inputs_give_a_grade_not_an_exception() -> None:
    huge = similarity.grade("Why dropout?", "dropout " * 100_000, references=[REF_EN], score_max=5)
    assert huge.status == "graded" and "truncated" in huge.flags and 0 <= (huge.score or 0) <= 5
    odd = similarity.grade("Why dropout?", "🙂\x00\x07 dropout\u200b zeroes units 🎉", references=[REF_EN])
    assert odd.status == "graded" and 0 <= (odd.score or 0) <= 10
    other_language = similarity.grade("Why dropout?", REF_ZH, references=[REF_EN], lang="en")
    assert "wrong_language" in other_language.flags


def test_copied_reference_and_keyword_stuffing_are_flagged_with_low_confidence() -> None:
    copy = similarity.grade("Why dropout?", REF_EN, references=[REF_EN])
    assert "reference_copy" in copy.flags and "low_confidence" in copy.flags
    stuffed = similarity.grade("Why dropout?", "dropout " * 12 + "units zeroes training inference", references=[REF_EN])
    assert "keyword_stuffing" in stuffed.flags
    honest = similarity.grade("Why dropout?", "Units are zeroed at random during training.", references=[REF_EN])
    assert not {"reference_copy", "keyword_stuffing"} & set(honest.flags)
    assert copy.confidence < honest.confidence


def test_key_points_get_term_coverage_verdicts() -> None:
    points = [RubricPoint(id="k1", weight=3, text="units cannot co-adapt"),
              RubricPoint(id="k2", weight=2, text="activations scaled at inference")]
    grade = similarity.grade("Why dropout?", "Because units cannot co-adapt.", references=[REF_EN], key_points=points)
    assert [v.verdict for v in grade.verdicts] == ["covered", "missing"]
    assert grade.missing_points == ["activations scaled at inference"]


def test_no_reference_is_ungraded_with_a_reason() -> None:
    grade = similarity.grade("Why dropout?", "some answer", references=["  "])
    assert grade.status == "ungraded" and grade.score is None and "reference" in (grade.error or "")


def test_params_for_other_features_name_the_fix(tmp_path: Path) -> None:
    params = similarity.load_params().model_dump()
    params["features"] = ["char_cosine"]
    path = tmp_path / "params.json"
    path.write_text(__import__("json").dumps(params), encoding="utf-8")
    with pytest.raises(ConfigError, match="refit"):
        similarity.load_params(path)
    with pytest.raises(ConfigError, match="fit_similarity"):
        similarity.load_params(tmp_path / "missing.json")


def test_committed_params_record_how_they_were_made() -> None:
    params = similarity.load_params()
    assert params.command == "python benchmarks/fit_similarity.py"
    assert set(params.models) == {"en", "zh", "all"}
    assert all(len(m.coef) == len(similarity.FEATURES) for m in params.models.values())


@pytest.mark.skipif(not (DATASETS / "le_zh" / "le_zh.jsonl").exists(), reason="../shared datasets absent")
def test_signals_track_human_scores_on_le_zh() -> None:
    # Each of the main signals on its own correlates with the human scores of the Chinese set
    # (measured 0.57-0.64); a broken tokeniser or cosine would fall far below 0.4.
    rows = load_dataset(DATASETS / "le_zh" / "le_zh.jsonl").rows
    x = feature_matrix(rows, ("char_cosine", "token_recall", "bm25"))
    gold = np.asarray([row.gold for row in rows])
    for column in range(x.shape[1]):
        assert (pearson(x[:, column], gold) or 0) > 0.4
