"""Rubric: key points for a question (given, split from the reference, or derived by the model and
cached) and lexical matching of key points against an answer (coverage and evidence)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from interviewer.bank import RubricPoint
from interviewer.errors import BadModelOutput
from interviewer.llm import Usage, complete, parse_structured
from interviewer.prompts import render_messages

KeyPointMethod = Literal["split", "llm"]
MAX_POINTS = 8
# A reference split in code gives at most this many points (neighbours merged). With 6-8 points
# the 1.5B fell into one fixed code pattern for most answers to a question; with 4 its codes
# varied with the answer (dev rows of saf_en and le_zh, BENCHMARKS.md "Grader accuracy").
SPLIT_MAX_POINTS = 4

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# Small stop list: only what would otherwise dominate overlap between any two English texts.
_STOP = frozenset(
    ["a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "be", "by", "it", "its", "as", "at", "this", "that", "with", "from", "can", "not", "no", "if", "then", "than", "so", "which", "what", "when", "how", "why", "do", "does", "was", "were", "will", "would", "should", "may", "might", "there", "their", "they", "them", "we", "you", "your", "i", "he", "she", "his", "her", "all", "any", "each", "one", "also", "more", "most", "such", "into", "about", "has", "have", "had", "been", "being", "only", "but", "these", "those", "use", "used", "using"]
)


# --- lexical signals ---------------------------------------------------------------------------
def is_chinese(text: str) -> bool:
    """True when CJK characters make up a real share of the letters (the question's language)."""
    cjk = len(_CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return cjk > 0 and cjk * 3 >= latin


def terms(text: str) -> list[str]:
    """Content units: Chinese character bigrams (no segmenter needed for overlap) and English
    lower-cased words minus stop words, cut to 6 letters as a crude stemmer (layer/layers)."""
    lowered = text.lower()
    units = [w[:6] for w in _WORD.findall(lowered) if w not in _STOP]
    for run in re.findall(r"[\u3400-\u9fff]+", lowered):
        units.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return units


def char_ngrams(text: str, n: int = 3) -> Counter[str]:
    """Character n-grams of the text with punctuation and spaces squeezed (language-agnostic)."""
    squeezed = _PUNCT.sub(" ", text.lower()).strip()
    return Counter(squeezed[i : i + n] for i in range(max(0, len(squeezed) - n + 1)))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    """Cosine of two count vectors. Hand-written: sklearn would need a fitted vocabulary per
    pair, and this runs per sentence for every key point."""
    if not a or not b:
        return 0.0
    dot = sum(count * b[key] for key, count in a.items() if key in b)
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def recall(needle: str, haystack: str) -> float:
    """Share of the needle's distinct content units that occur in the haystack."""
    wanted = set(terms(needle))
    return len(wanted & set(terms(haystack))) / len(wanted) if wanted else 0.0


def containment(source: str, text: str, n: int = 5) -> float:
    """Share of `source`'s character n-grams found in `text` (how much of it was pasted in)."""
    grams = set(char_ngrams(source, n))
    return len(grams & set(char_ngrams(text, n))) / len(grams) if grams else 0.0


# --- key points from a reference ---------------------------------------------------------------
_ENUM_ZH = re.compile(r"(?:[一二三四五六七八九十]是|[（(][0-9一二三四五六七八九十]+[)）]|(?<![0-9.])[0-9]+[、.．](?![0-9])|[①-⑩]|第[一二三四五六七八九十]+[，,、])")
_ENUM_EN = re.compile(
    r"(?m)^\s*(?:\(?[0-9]+[).]|\(?[a-h]\)|[ivx]+\)|[-•*])\s*|\([0-9]+\)\s*|\([ivx]+\)\s*"
    r"|\b(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|finally),\s*",
    re.I,
)
_SENTENCE = re.compile(r"(?<=[。！？!?；;])|(?<=[a-z)][.])\s+|\n+")
_LEAD_IN = re.compile(r"^(.{2,40}?)[：:]")


def _strip_item(text: str) -> str:
    return text.strip(" \t\n,，、;；:：。.-—")


def _drop_lead_in(reference: str, question: str) -> str:
    """Remove "X的构成：" / "Possible differences:" when it only restates the question."""
    match = _LEAD_IN.match(reference.strip())
    if match and (recall(match.group(1), question) >= 0.5 or len(terms(match.group(1))) <= 3):
        return reference.strip()[match.end() :]
    return reference


def _split_list(sentence: str) -> list[str]:
    """A sentence that is a list of short items ("A、B、C和D") becomes its items."""
    parts = [_strip_item(p) for p in re.split(r"[、]|(?<=[\u3400-\u9fff])和(?=[\u3400-\u9fff]{2,8}$)", sentence)]
    parts = [p for p in parts if p]
    if len(parts) >= 3 and sum(len(p) for p in parts) / len(parts) <= 12:
        return parts
    return [sentence]


def split_reference(reference: str, question: str = "") -> list[str]:
    """Deterministic key points: the reference's sentences, numbered/enumerated items, and lists
    of short `、`-separated items (Chinese references often read "X的构成：A、B、C。")."""
    zh = is_chinese(reference)
    text = _drop_lead_in(reference, question)
    text = _ENUM_ZH.sub("\n", text) if zh else _ENUM_EN.sub("\n", text)
    items: list[str] = []
    for sentence in _SENTENCE.split(text):
        sentence = _strip_item(sentence or "")
        if not sentence:
            continue
        head, sep, tail = sentence.partition("：")
        if sep and len(head) <= 40 and recall(head, question) >= 0.5:
            sentence = _strip_item(tail)  # a lead-in restating the question carries no point
        items.extend(_split_list(sentence) if zh else [sentence])
    items = [item for item in items if terms(item)]
    if len(items) > SPLIT_MAX_POINTS:  # merge neighbours so a long list stays a rubric, not a word list
        size = math.ceil(len(items) / SPLIT_MAX_POINTS)
        joiner = "，" if zh else "; "
        items = [joiner.join(items[i : i + size]) for i in range(0, len(items), size)]
    return items or [_strip_item(reference)]


def split_key_points(reference: str, question: str = "") -> list[RubricPoint]:
    """Rubric points from `split_reference`, all of weight 2 (the text gives no importance)."""
    return [RubricPoint(id=f"k{i + 1}", weight=2, text=item) for i, item in enumerate(split_reference(reference, question))]


class _DerivedPoint(BaseModel):
    text: str = Field(min_length=1, description="The idea, as a short phrase.")
    weight: int = Field(default=2, ge=1, le=3, description="3 essential, 2 expected, 1 nice to have.")


class _DerivedPoints(BaseModel):
    points: list[_DerivedPoint] = Field(min_length=1, max_length=MAX_POINTS, description="The key points.")


def _cache_path(cache_dir: Path, *parts: str) -> Path:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return cache_dir / "key_points" / f"{digest}.json"


def derive_key_points(
    question: str,
    reference: str,
    *,
    lang: str,
    method: KeyPointMethod = "split",
    model: BaseChatModel | None = None,
    cache_dir: Path | None = None,
) -> tuple[list[RubricPoint], Usage]:
    """Key points for a reference without a rubric. "llm" asks the model once per (question,
    reference, language, model) and caches the result on disk; if the model's reply is unusable it
    falls back to the deterministic split (cached too, so we do not ask again for every answer)."""
    if method == "split" or model is None:
        return split_key_points(reference, question), Usage()
    from interviewer.llm import model_name

    path = _cache_path(cache_dir, "v1", lang, model_name(model), question, reference) if cache_dir else None
    if path is not None and path.exists():
        return [RubricPoint.model_validate(p) for p in json.loads(path.read_text(encoding="utf-8"))], Usage()
    reply = complete(model, render_messages("key_points", lang, question=question, reference=reference),
                     schema=_DerivedPoints, max_tokens=300)
    try:
        derived = parse_structured(reply.text, _DerivedPoints).points
        points = [RubricPoint(id=f"k{i + 1}", weight=p.weight, text=p.text.strip()) for i, p in enumerate(derived)]
    except BadModelOutput:
        points = split_key_points(reference, question)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([p.model_dump() for p in points], ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # atomic: concurrent graders never read half a file
    return points, reply.usage


# --- matching key points in an answer ----------------------------------------------------------
def sentences(text: str) -> list[str]:
    """The answer cut into sentences/clauses, for quoting evidence."""
    parts = re.split(r"(?<=[。！？!?；;])|(?<=[.])\s+|\n+|(?<=[，,])(?=.{12,})", text)
    return [p.strip() for p in parts if p and p.strip()]


def evidence_for(point: RubricPoint, answer: str) -> tuple[str, float]:
    """The answer's sentence that best matches the point (char-trigram cosine blended with term
    recall), with that match strength on 0..1."""
    target = f"{point.text} {point.covers}".strip()
    best, best_score = "", 0.0
    grams = char_ngrams(target)
    for sentence in sentences(answer):
        score = 0.5 * cosine(grams, char_ngrams(sentence)) + 0.5 * recall(point.text, sentence)
        if score > best_score:
            best, best_score = sentence, score
    return best[:300], best_score


def point_coverage(points: list[RubricPoint], answer: str) -> float:
    """Weighted share of key-point terms present anywhere in the answer (0..1)."""
    total = sum(p.weight for p in points)
    return sum(p.weight * recall(p.text, answer) for p in points) / total if total else 0.0
