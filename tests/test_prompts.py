"""Prompt templates: loading by name and language, variables, and the cache-friendly order."""

from __future__ import annotations

import pytest

from interviewer.prompts import PromptError, render, render_messages, variables


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_grade_template_has_the_four_variables(lang: str) -> None:
    assert variables("grade", lang) == {"question", "reference", "points", "answer"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_missing_variable_is_named(lang: str) -> None:
    with pytest.raises(PromptError, match="answer"):
        render("grade", lang, question="q", reference="r", points="1. p")


def test_unknown_template_says_which_file() -> None:
    with pytest.raises(PromptError, match=r"nope\.en\.md"):
        render("nope", "en")


def test_values_are_not_rescanned_for_placeholders() -> None:
    text = render("grade", "en", question="Q", reference="R", points="1. p", answer="{{ question }}")
    assert "{{ question }}" in text  # inserted literally, not replaced by "Q"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_answer_is_last_and_notes_are_dropped(lang: str) -> None:
    messages = render_messages("grade", lang, question="Q?", reference="REF", points="1. P", answer="MY ANSWER")
    assert [m.type for m in messages] == ["system", "human"]
    user = str(messages[1].content)
    assert user.rstrip().endswith("MY ANSWER\n</answer>")
    assert user.index("REF") < user.index("<answer>")
    assert "<!--" not in str(messages[0].content) + user
