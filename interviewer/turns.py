"""Turns: tell what a candidate's message is (an answer, or skip / hint / clarify / repeat / end / off-topic).

Rules, not a model: they run in microseconds, work offline, and are predictable for the
candidate ("跳过" always skips). Anything that is not clearly a control message is an answer,
because mistaking an answer for chatter would lose the candidate's work."""

from __future__ import annotations

import re
from typing import Literal

TurnType = Literal["answer", "skip", "hint", "clarify", "repeat", "end", "off_topic"]

_PATTERNS: dict[TurnType, list[str]] = {
    "end": [
        r"^(end|stop|quit|exit|finish)( (the )?(interview|session|now|here))?( now)?$",
        r"^(let'?s|i want to|can we|please) (end|stop|finish)\b.*$",
        r"^(结束|结束面试|结束吧|不面了|到此为止|停止|退出)(面试|吧|了)?$",
    ],
    "skip": [
        r"^(i )?(don'?t|do not) know\b.*$",
        r"^(no idea|not sure|pass|skip|next|next question|skip (this|it)( one| question)?)$",
        r"^(i have no idea|i can'?t answer (this|that))\b.*$",
        r"^(不知道|不会|不清楚|不了解|没学过|跳过|下一题|换一题|这题不会|我不会|我不知道|过)(这题|吧|了|啊)?$",
    ],
    "hint": [
        r"^(can i (get|have) a |give me a |any |a |need a )?hints?\??( please)?$",
        r"^(can you )?give me (a )?(clue|hint|tip)\b.*$",
        r"^(提示|给个提示|给点提示|能给个提示吗|有提示吗|提示一下|给我一点提示)[吗呢吧？?]*$",
    ],
    "repeat": [
        r"^(repeat|say (that|it) again|again|pardon|come again)( please)?\??$",
        r"^(can|could) you repeat( the question| that)?( please)?\??$",
        r"^(what was the question|repeat the question)\??$",
        r"^(再说一遍|重复一下|重复|再问一遍|题目是什么|问题是什么|没听清)[吗呢吧？?]*$",
    ],
}

# A clarification is a short question about the question, not an answer to it.
_CLARIFY = [
    r"^(do|did) you mean\b",
    r"^what do you mean\b",
    r"^(by|when you say)\b.*\?$",
    r"^(should|do) i (answer|explain|cover|include|talk about)\b",
    r"^(is|are) (this|the question) (about|asking)\b",
    r"^(你是说|您是说|是指|指的是|你指的是|这里的|题目里的|这个问题是问|是问)",
    r"(是什么意思|什么意思)[？?]?$",
    r"^(需要|要不要|要)(讲|说|回答|介绍)",
]

# Requests aimed at the grader rather than the question (the grader flags these inside answers).
_MANIPULATION = [
    r"\b(give|award|grant) me (a |full |the )?(10|ten|full|max(imum)?|perfect)\b",
    r"\bignore (all |the |your |previous |above )*(instructions|rubric|rules)\b",
    r"\b(you are|act as|pretend to be) (now )?(a|an|my)\b",
    r"(给我|给)满分|打满分|给(我)?10分|忽略(以上|之前|前面)?(的)?(所有)?(指令|规则|评分标准)",
    r"(你现在是|扮演|假装你是)",
]
_CHATTER = [
    r"^(hi|hello|hey|thanks|thank you|ok|okay|cool|lol|haha)[.!]*$",
    r"^(你好|谢谢|好的|嗯|哈哈|收到)[。!！]*$",
    r"^(what'?s the weather|tell me a joke|who are you)\b",
    r"^(今天天气|讲个笑话|你是谁)",
]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip("。.!！~～ ")


def _matches(text: str, patterns: list[str]) -> bool:
    return any(re.search(p, text) for p in patterns)


def classify_turn(text: str) -> TurnType:
    """What the candidate's message is. Empty text counts as a skip."""
    norm = _norm(text)
    if not norm:
        return "skip"
    for kind in ("end", "skip", "hint", "repeat"):
        if _matches(norm, _PATTERNS[kind]):
            return kind
    short = len(norm) <= 80
    if short and norm.endswith(("?", "？")) and _matches(norm, _CLARIFY):
        return "clarify"
    if _matches(norm, _MANIPULATION):
        # Keep substantive answers that merely contain an injection: the grader flags and scores
        # their content. Only a message that is little more than the request is off-topic.
        stripped = norm
        for pattern in _MANIPULATION:
            stripped = re.sub(pattern, "", stripped)
        if len(re.findall(r"\w", stripped)) < 25:
            return "off_topic"
    if short and _matches(norm, _CHATTER):
        return "off_topic"
    return "answer"
