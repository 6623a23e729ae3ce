"""Prompts: load the templates in `prompts/` by name and language and fill in their variables."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from interviewer.errors import PromptError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
# A template is `<!-- notes -->` (dropped), a system part, this marker line, then the user part.
_USER_MARKER = "<!-- user -->"
_NOTES = re.compile(r"\A\s*<!--(?!\s*user\s*-->).*?-->\s*", re.DOTALL)
_VARIABLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


@cache
def load_template(name: str, lang: str) -> str:
    """The raw template `prompts/<name>.<lang>.md` without its leading notes comment."""
    path = PROMPTS_DIR / f"{name}.{lang}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"prompt template {path} cannot be read ({exc}); is `prompts/` complete?") from exc
    return _NOTES.sub("", text, count=1)


def variables(name: str, lang: str) -> set[str]:
    """The variable names a template uses."""
    return set(_VARIABLE.findall(load_template(name, lang)))


def render(name: str, lang: str, **values: object) -> str:
    """Fill `{{ variable }}` placeholders; raise `PromptError` naming any variable not given.
    Values are inserted once, never re-scanned, so text in an answer cannot inject a placeholder."""
    template = load_template(name, lang)
    missing = sorted(variables(name, lang) - values.keys())
    if missing:
        raise PromptError(f"prompt {name}.{lang} needs variables {missing}; pass them to render()")
    return _VARIABLE.sub(lambda m: str(values[m.group(1)]), template)


def render_messages(name: str, lang: str, **values: object) -> list[BaseMessage]:
    """Render a template into a system message and a user message (split at `<!-- user -->`)."""
    text = render(name, lang, **values)
    if _USER_MARKER not in text:
        return [HumanMessage(content=text.strip())]
    system_part, user_part = text.split(_USER_MARKER, 1)
    return [SystemMessage(content=system_part.strip()), HumanMessage(content=user_part.strip())]
