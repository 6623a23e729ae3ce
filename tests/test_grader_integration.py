"""Grader against the real embedded 0.5B model: the whole chain (prompt, json_schema grammar,
parsing, scoring) runs end to end in both languages. Run with `pytest -m integration`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interviewer import local_model
from interviewer.bank import load_bank
from interviewer.config import Settings, load_settings
from interviewer.grader import grade
from interviewer.llm import build_chat_model

pytestmark = pytest.mark.integration
WEAK = {"en": "I am not sure. I think it is mostly about making training faster on a GPU.",
        "zh": "我不太确定，我觉得主要是为了让 GPU 上的训练更快。"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    chosen = load_settings(data_dir=tmp_path_factory.mktemp("grader-model"), local_model="0.5b",
                           model_slots=1, model_ctx=4096)
    local_model.ensure_server(chosen)
    yield chosen
    local_model.stop_server(chosen)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bank_questions_strong_above_weak(settings: Settings, lang: str) -> None:
    # The 0.5B's own verdicts are no better than chance (DESIGN.md "Measured here"), so this
    # ordering holds through the combined score: the fitted blend weighs the lexical signals as
    # well as the verdicts. What this test proves about the model is the plumbing: a schema-valid
    # reply for every answer, in both languages. Judgement quality is measured with the 1.5B.
    model = build_chat_model(settings)
    items = load_bank()[:3]
    assert len(items) == 3, "the bank should have at least three items"
    for item in items:
        view = item.view(lang)  # type: ignore[arg-type]
        strong = ("。" if lang == "zh" else ". ").join(p.text for p in view.key_points)
        results = [
            grade(view.question, answer, references=[view.reference], key_points=view.key_points,
                  model=model, lang=lang, settings=settings, citations=[view.source])
            for answer in (strong, WEAK[lang])
        ]
        for result in results:
            assert result.status == "graded", result.error
            assert result.grader == "llm" and len(result.verdicts) == len(view.key_points)
            assert result.usage.prompt > 0 and result.usage.completion > 0
            assert result.citations == [view.source]
        assert results[0].score is not None and results[1].score is not None
        assert results[0].score > results[1].score, (item.id, results[0].score, results[1].score)


def test_dataset_row_without_key_points(settings: Settings) -> None:
    model = build_chat_model(settings)
    result = grade("库存成本的构成有哪些？", "订货成本、保管成本、缺货成本。",
                   references=["库存成本的构成：订货成本、保管成本、缺货成本、进货成本与购买成本、固定成本和变动成本。"],
                   score_max=1.0, model=model, settings=settings)
    # six listed items, merged in pairs (split references give at most SPLIT_MAX_POINTS points)
    assert result.status == "graded" and len(result.verdicts) == 3
    assert result.score is not None and 0 <= result.score <= 1
    assert result.overall is not None and 0 <= result.overall <= 1
