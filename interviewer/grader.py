"""Grader: the `Grade` result and `grade()`, which scores an answer against a key-point rubric.

One model call per answer: the model sees instructions, question, reference and numbered key points
(a prefix shared by every answer to that question, so the server's prompt cache serves it) and the
fenced answer last, and replies with verdict codes and one overall rating only. Evidence, missing
points, factual errors and feedback are written here from those codes; the score blends the model's
two judgements with the no-LLM `similarity` score, using weights fitted offline
(`prompts/grade_weights.json`, see `benchmarks/bench_grader.py`)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, Field, create_model

from interviewer.bank import RubricPoint
from interviewer.errors import BadModelOutput, InterviewerError, ModelError
from interviewer.llm import LLMReply, TokenChoice, Usage, complete, model_name, parse_structured
from interviewer.manipulation import clean_text, screen
from interviewer.prompts import PROMPTS_DIR, render, render_messages
from interviewer.rubric import (
    KeyPointMethod,
    derive_key_points,
    evidence_for,
    is_chinese,
    recall,
    terms,
)
from interviewer.tokens import truncate_to_tokens

if TYPE_CHECKING:
    from interviewer.config import Settings

Verdict = Literal["covered", "partly", "missing"]
Flag = Literal[
    "empty", "off_topic", "injection_attempt", "truncated", "wrong_language", "reference_copy",
    "keyword_stuffing", "fallback_grader", "low_confidence",
]

ANSWER_TOKEN_BUDGET = 600  # ~2-3x a thorough interview answer; keeps a call under ~1k tokens
REFERENCE_TOKEN_BUDGET = 500
WEIGHTS_PATH = PROMPTS_DIR / "grade_weights.json"


def _files_digest() -> str:
    here = Path(__file__).resolve().parent
    parts = [*sorted(PROMPTS_DIR.glob("grade*.md")), *sorted(PROMPTS_DIR.glob("grade_weights.json")),
             *(here / name for name in ("grader.py", "manipulation.py", "rubric.py", "similarity.py",
                                        "similarity_params.json"))]
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:8]


# The eval harness caches predictions per prompt version, so it names the scoring method's
# version (bump `grade-v3` when the method changes) and a digest of every file that decides a
# grade: prompts, weights, and the grading, screening, rubric and similarity code (an edit there changes
# scores too, so cached predictions must not outlive it).
log = logging.getLogger(__name__)
PROMPT_VERSION = f"grade-v3+{_files_digest()}"
_CODES: dict[int, Verdict] = {2: "covered", 1: "partly", 0: "missing"}
_CAP_KEYWORD_STUFFING = 0.4  # a word list shows recognition, not understanding
_CAP_OFF_TOPIC = 0.2
_CAP_PASTED_REFERENCE = 0.3  # the reference pasted among junk or other text is not the candidate's answer
# A key point judged 0 (missing or wrong) while one of the answer's sentences clearly talks about it
# (evidence match at least this strong) was stated wrongly: that sentence is reported as an error.
_MISSTATED_EVIDENCE = 0.4


class PointVerdict(BaseModel):
    """How well the answer covers one key point."""

    point_id: str = Field(description="The rubric point's id (k1, k2, ...).")
    point: str = Field(description="The key point's text.")
    weight: int = Field(ge=1, le=3, description="The key point's weight.")
    verdict: Verdict = Field(description="covered / partly / missing.")
    evidence: str = Field(default="", description="Quoted words from the answer supporting the verdict.")


class Grade(BaseModel):
    """The result of grading one answer. `score` is None exactly when `status` is "ungraded"."""

    status: Literal["graded", "ungraded"] = Field(description="ungraded: no trustworthy score (see error).")
    score: float | None = Field(default=None, description="0..score_max; None when ungraded.")
    score_max: float = Field(default=10.0, gt=0, description="Top of the scale.")
    verdicts: list[PointVerdict] = Field(default_factory=list, description="One per key point.")
    factual_errors: list[str] = Field(default_factory=list, description="Wrong statements in the answer.")
    feedback: str = Field(default="", description="What was good and what to add, for the candidate.")
    missing_points: list[str] = Field(default_factory=list, description="Key points not (fully) covered.")
    citations: list[str] = Field(default_factory=list, description="Ids of bank items / chunks used as reference.")
    flags: list[Flag] = Field(default_factory=list, description="Notable properties of the answer or grading.")
    confidence: float = Field(default=0.5, ge=0, le=1, description="How sure the grader is, 0..1.")
    grader: str = Field(default="llm", description="Which grader produced this: llm or similarity.")
    model: str = Field(default="", description="Model name, '' for the similarity grader.")
    prompt_version: str = Field(default="", description="Version of the prompts/parameters used.")
    usage: Usage = Field(default_factory=Usage, description="Tokens spent (prompt / cached / completion).")
    latency: float = Field(default=0.0, description="Seconds spent grading.")
    error: str | None = Field(default=None, description="Why the answer is ungraded, when it is.")
    model_score: float | None = Field(
        default=None, description="The weighted verdicts alone on 0..1, before blending with signals."
    )
    overall: float | None = Field(default=None, description="The model's overall rating of the answer on 0..1.")
    signals: dict[str, float] = Field(default_factory=dict, description="Lexical signals used in the score.")

    @property
    def normalized(self) -> float | None:
        """Score on 0..1, or None when ungraded."""
        return None if self.score is None else self.score / self.score_max


# --- scoring --------------------------------------------------------------------------------------
class Blend(BaseModel):
    """A linear blend of features, clipped to 0..1."""

    intercept: float = Field(description="Constant term.")
    coef: dict[str, float] = Field(description="Weight per feature name.")

    def apply(self, features: dict[str, float]) -> float:
        value = self.intercept + sum(w * features.get(name, 0.0) for name, w in self.coef.items())
        return min(1.0, max(0.0, value))


class Weights(BaseModel):
    """Fitted blends for the LLM grader and for the no-LLM fallback, with their provenance."""

    llm: Blend = Field(description="Blend of the model's judgements with the no-LLM similarity score.")
    command: str = Field(default="", description="The command that produced these weights.")
    notes: dict[str, Any] = Field(default_factory=dict, description="Rows used, CV figures, date.")


# Used only until `prompts/grade_weights.json` is fitted: the verdicts alone.
_UNFITTED = Weights(llm=Blend(intercept=0.0, coef={"verdicts": 1.0}), command="(unfitted defaults)")


@cache
def load_weights() -> Weights:
    """The committed blend weights, or plain defaults when none have been fitted yet."""
    if not WEIGHTS_PATH.exists():
        return _UNFITTED
    return Weights.model_validate_json(WEIGHTS_PATH.read_text(encoding="utf-8"))


def lexical_signals(question: str, answer: str, references: list[str], points: list[RubricPoint], lang: str) -> dict[str, float]:
    """Cheap, model-free overlap of answer and reference: the similarity grader's features (one
    definition of each signal in the project), key-point term coverage, and `similarity`, the
    no-LLM grader's score on 0..1 from those features."""
    from interviewer import similarity  # imported here: similarity imports Grade from this module

    found = similarity.features(question, references, answer, lang, key_points=points)
    signals = {name: float(found.get(name, 0.0)) for name in (*similarity.FEATURES, "keypoint_coverage")}
    signals["similarity"] = similarity.predict(signals, lang)
    return signals


def _weighted_share(weights: list[int], shares: list[float]) -> float:
    total = sum(weights)
    return sum(w * share for w, share in zip(weights, shares, strict=True)) / total if total else 0.0


def expected_verdict_score(expected: list[float], points: list[RubricPoint]) -> float:
    """Weighted mean of the expected codes (0..2 each) on 0..1."""
    return _weighted_share([p.weight for p in points], [value / 2 for value in expected])


def verdict_score(verdicts: list[PointVerdict]) -> float:
    """Weighted share of key points covered: covered = 1, partly = 0.5, missing = 0."""
    value = {"covered": 1.0, "partly": 0.5, "missing": 0.0}
    return _weighted_share([v.weight for v in verdicts], [value[v.verdict] for v in verdicts])


# --- the model call -------------------------------------------------------------------------------
@cache
def _verdict_schema(n_points: int) -> type[BaseModel]:
    """JSON schema for exactly `n_points` codes and an overall rating `s`; the server turns it
    into a grammar, so a small model cannot produce prose or the wrong number of codes. Both keys
    are required in the schema sent; parsing tolerates a reply without `s` (then the verdicts
    stand in for it). Every generated token costs ~65-100 ms on 2 cores, the reply's largest
    share of an answer's latency, so nothing else is asked (an error flag `err` cost 4 tokens,
    ~0.3 s; misstated points now come from the codes, see `_misstated`)."""
    return create_model(
        "Verdicts",
        __config__=ConfigDict(json_schema_extra=_require_all),
        v=(list[Literal[0, 1, 2]], Field(min_length=n_points, max_length=n_points)),
        s=(Literal[0, 1, 2, 3, 4] | None, Field(default=None)),
    )


def _require_all(schema: dict[str, Any]) -> None:
    schema["required"] = list(schema.get("properties", {}))


def expected_codes(tokens: list[TokenChoice], codes: list[int], sizes: list[int]) -> list[float]:
    """The model's codes as expected values under its own token probabilities (as in G-Eval):
    a small model that puts 36% on "0", 36% on "1" and 27% on "2" emits "0", but its judgement
    is nearer 0.9, and the expected value keeps that (measured: BENCHMARKS.md, "Grader
    accuracy"). The reply's digits are the codes in order (the grammar allows no other digits);
    code i is renormalised over the values 0..sizes[i]-1. Without usable probabilities (the
    server sent none), the codes themselves."""
    digits = [t for t in tokens if len(t.token) == 1 and t.token.isdigit()]
    if len(digits) != len(codes):
        return [float(c) for c in codes]
    values = []
    for choice, code, size in zip(digits, codes, sizes, strict=True):
        probs = {int(tok): p for tok, p in choice.top.items() if len(tok) == 1 and tok.isdigit() and int(tok) < size}
        total = sum(probs.values())
        values.append(sum(k * p for k, p in probs.items()) / total if total > 0 else float(code))
    return values


def _numbered(points: list[RubricPoint]) -> str:
    return "\n".join(f"{i + 1}. {p.text}" + (f" ({p.covers})" if p.covers else "") for i, p in enumerate(points))


class _Reading(BaseModel):
    """What one grading call said: codes per key point and the overall rating, as emitted and as
    expected values under the model's token probabilities."""

    codes: list[int] = Field(description="0/1/2 per key point, as emitted (labels for feedback).")
    expected: list[float] = Field(description="Expected 0..2 per key point (the score uses these).")
    overall: float | None = Field(description="Expected overall rating on 0..1; None if not given.")


def _reading(parsed: BaseModel, reply: LLMReply) -> _Reading:
    codes: list[int] = list(parsed.v)  # type: ignore[attr-defined]
    rating: int | None = parsed.s  # type: ignore[attr-defined]
    emitted = [*codes, *([rating] if rating is not None else [])]
    sizes = [3] * len(codes) + ([5] if rating is not None else [])
    values = expected_codes(reply.tokens, emitted, sizes)
    return _Reading(codes=codes, expected=values[: len(codes)],
                    overall=values[len(codes)] / 4 if rating is not None else None)


# The digits allowed at a code's place were among the top 5 in the replies we inspected; one
# missing from the list counts as probability 0 (the probabilities are the model's, before the grammar).
TOP_LOGPROBS = 5


def _ask_verdicts(
    model: BaseChatModel, messages: list[BaseMessage], n_points: int, lang: str
) -> tuple[_Reading | None, Usage, str]:
    """One call plus at most one repair; returns (reading or None, usage, error text)."""
    schema = _verdict_schema(n_points)
    budget = 16 + 4 * n_points  # '{"v": [2, 1, 0], "s": 3}' with spaces: ~10 tokens + 3 per code
    reply = _complete_or_cut(model, messages, schema, budget)
    usage = reply.usage
    try:
        return _reading(parse_structured(reply.text, schema), reply), usage, ""
    except BadModelOutput as first:
        repair = render("grade_repair", lang, n=n_points, error=str(first)[:300])
        retry = [*messages, AIMessage(content=reply.text[:500]), HumanMessage(content=repair)]
        second = _complete_or_cut(model, retry, schema, budget)
        usage = usage + second.usage
        try:
            return _reading(parse_structured(second.text, schema), second), usage, ""
        except BadModelOutput as again:
            return None, usage, f"the model's verdicts could not be parsed after one repair: {again}"


def _complete_or_cut(model: BaseChatModel, messages: list[BaseMessage], schema: type[BaseModel], budget: int) -> LLMReply:
    """A reply cut at the token budget is an unparsable reply (to repair), not an unreachable
    model: llm.map_error turns the SDK's length error into BadModelOutput."""
    try:
        return complete(model, messages, schema=schema, max_tokens=budget, top_logprobs=TOP_LOGPROBS)
    except BadModelOutput:
        return LLMReply(text="(reply cut at the token limit)", model=model_name(model))


# --- text for the candidate -----------------------------------------------------------------------
def _feedback(verdicts: list[PointVerdict], lang: str, flags: list[str]) -> str:
    covered = [v.point for v in verdicts if v.verdict == "covered"]
    partly = [v.point for v in verdicts if v.verdict == "partly"]
    missing = [v.point for v in verdicts if v.verdict == "missing"]
    zh = lang == "zh"
    parts = []
    if covered:
        parts.append(("答到了：" if zh else "Good: you covered ") + ("；".join(covered) if zh else "; ".join(covered)) + ("。" if zh else "."))
    if partly:
        parts.append(("说得不完整：" if zh else "Only partly: ") + ("；".join(partly) if zh else "; ".join(partly)) + ("。" if zh else "."))
    if missing:
        parts.append(("还应补充：" if zh else "Add: ") + ("；".join(missing) if zh else "; ".join(missing)) + ("。" if zh else "."))
    if "injection_attempt" in flags:
        parts.append("回答中对评分者的指令已被忽略，只按内容评分。" if zh else "Instructions to the grader in the answer were ignored; only the content was graded.")
    return " ".join(parts)


def _grade_from_codes(codes: list[int], points: list[RubricPoint], content: str) -> list[PointVerdict]:
    verdicts = []
    for point, code in zip(points, codes, strict=True):
        quote, _ = evidence_for(point, content) if code else ("", 0.0)
        verdicts.append(PointVerdict(point_id=point.id, point=point.text, weight=point.weight,
                                     verdict=_CODES[code], evidence=quote))
    return verdicts


def _lexical_verdicts(points: list[RubricPoint], content: str) -> list[PointVerdict]:
    """Verdicts from term recall alone (fallback grader): >= .6 covered, >= .3 partly."""
    verdicts = []
    for point in points:
        quote, _strength = evidence_for(point, content)
        share = recall(point.text, content)
        verdict: Verdict = "covered" if share >= 0.6 else "partly" if share >= 0.3 else "missing"
        verdicts.append(PointVerdict(point_id=point.id, point=point.text, weight=point.weight,
                                     verdict=verdict, evidence=quote if verdict != "missing" else ""))
    return verdicts


# --- references -----------------------------------------------------------------------------------
def _retrieve(question: str, store: Any, k: int = 3) -> tuple[list[str], list[str]]:
    """Best references from the knowledge base: (texts, ids)."""
    hits = store.search(question, k=k)
    return [hit.text for hit in hits], [hit.id for hit in hits]


def _default_store(settings: Settings) -> Any:
    """The knowledge store, if one has been built; opening creates and embeds the bank, which is
    far too slow to do implicitly while grading one answer."""
    if not settings.chroma_url and not settings.chroma_dir.exists():
        return None
    try:
        from interviewer.store import open_store  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    try:
        return open_store(settings)
    except InterviewerError:
        return None


def _default_model(settings: Settings) -> BaseChatModel:
    from interviewer.llm import build_chat_model

    return build_chat_model(settings)


# --- grade() --------------------------------------------------------------------------------------
def warm_up(
    question: str,
    *,
    references: list[str] | None = None,
    key_points: list[RubricPoint] | None = None,
    model: BaseChatModel,
    lang: str | None = None,
) -> None:
    """Send the grading prompt's static part (everything before the answer) with a one-token reply,
    so the server's prefix cache holds it when the answer arrives: the interview calls this while
    the candidate is still thinking. Best effort: a failure only means a slower first grade."""
    lang = lang or ("zh" if is_chinese(question) else "en")
    references = [truncate_to_tokens(r, REFERENCE_TOKEN_BUDGET)[0] for r in references or [] if r and r.strip()]
    primary = references[0] if references else "\n".join(p.text for p in key_points or [])
    if not primary:
        return
    points = list(key_points) if key_points else derive_key_points(question, primary, lang=lang)[0]
    messages = render_messages("grade", lang, question=question, reference=primary,
                               points=_numbered(points), answer="")
    try:
        complete(model, messages, max_tokens=1)
    except ModelError as exc:
        log.info("grading warm-up failed (the first grade will be slower): %s", exc)


def grade(
    question: str,
    answer: str,
    *,
    references: list[str] | None = None,
    key_points: list[RubricPoint] | None = None,
    score_max: float = 10,
    model: BaseChatModel | None = None,
    store: Any = None,
    lang: str | None = None,
    citations: list[str] | None = None,
    fallback: bool = False,
    key_point_method: KeyPointMethod = "split",
    settings: Settings | None = None,
) -> Grade:
    """Grade `answer` to `question` on 0..score_max. Never raises for bad answers: empty, huge,
    odd characters or manipulative text all give a Grade. Model output that cannot be parsed after
    one repair gives an ungraded Grade; an unreachable model gives an ungraded Grade, or with
    `fallback=True` the lexical grade flagged `fallback_grader`."""
    from interviewer.config import load_settings

    started = time.perf_counter()
    settings = settings or load_settings()
    lang = lang or ("zh" if is_chinese(question) else "en")
    base: dict[str, Any] = {"score_max": score_max, "prompt_version": PROMPT_VERSION}
    flags: list[str] = []

    text, cut = truncate_to_tokens(clean_text(answer or ""), ANSWER_TOKEN_BUDGET)
    if cut:
        flags.append("truncated")
    if not text:
        return Grade(status="graded", score=0.0, flags=["empty"], confidence=1.0, grader="llm",
                     feedback="没有作答。" if lang == "zh" else "No answer was given.", **base,
                     latency=time.perf_counter() - started)

    references = [r for r in (references or []) if r and r.strip()]
    citations = list(citations or [])
    if not references and not key_points:
        store = store if store is not None else _default_store(settings)
        if store is not None:
            references, found = _retrieve(question, store)
            citations.extend(found)
    if not references and not key_points:
        return Grade(status="ungraded", error="no reference answer: pass one (--reference) or ingest a "
                     "knowledge base that covers this question", flags=flags, **base,  # type: ignore[arg-type]
                     latency=time.perf_counter() - started)
    references = [truncate_to_tokens(r, REFERENCE_TOKEN_BUDGET)[0] for r in references]
    primary = references[0] if references else "\n".join(p.text for p in key_points or [])

    screening = screen(text, question=question, references=references)
    flags.extend(screening.flags)
    content = screening.content
    if text and (is_chinese(text) != (lang == "zh")) and len(terms(text)) >= 3:
        flags.append("wrong_language")
    if not content:  # nothing but instructions to the grader
        return Grade(status="graded", score=0.0, flags=[*flags, "empty"], confidence=0.9, grader="llm",  # type: ignore[list-item]
                     feedback=_feedback([], lang, flags) or "No content to grade.", citations=citations, **base,
                     latency=time.perf_counter() - started)

    usage = Usage()
    try:
        if model is None:
            model = _default_model(settings)
        if key_points:
            points = list(key_points)
        else:
            points, spent = derive_key_points(question, primary, lang=lang, method=key_point_method,
                                              model=model, cache_dir=settings.cache_dir)
            usage = usage + spent
        messages = render_messages("grade", lang, question=question, reference=primary,
                                   points=_numbered(points), answer=content)
        reading, spent, error = _ask_verdicts(model, messages, len(points), lang)
        usage = usage + spent
    except ModelError as exc:
        if fallback:
            points = list(key_points) if key_points else derive_key_points(question, primary, lang=lang)[0]
            return _similarity_grade(question, content, references or [primary], points, flags, lang, citations,
                                     base, started, screening.pasted)
        return Grade(status="ungraded", error=f"the model could not be reached: {exc}", flags=flags,  # type: ignore[arg-type]
                     citations=citations, usage=usage, **base, latency=time.perf_counter() - started)
    name = model_name(model)
    if reading is None:
        return Grade(status="ungraded", error=error, flags=flags, citations=citations, model=name,  # type: ignore[arg-type]
                     usage=usage, **base, latency=time.perf_counter() - started)

    scored = _score(reading, points, content, question, references or [primary], lang, flags, screening.pasted)
    return Grade(status="graded", score=round(scored.pop("normalized") * score_max, 2), citations=citations,
                 grader="llm", model=name, usage=usage, latency=time.perf_counter() - started, **scored, **base)


def _score(
    reading: _Reading, points: list[RubricPoint], content: str, question: str, references: list[str],
    lang: str, flags: list[str], pasted: bool,
) -> dict[str, Any]:
    """The Grade's judgement fields from the model's reading: verdicts with evidence, the blended
    and capped score on 0..1 (`normalized`), confidence, feedback."""
    verdicts = _grade_from_codes(reading.codes, points, content)
    signals = lexical_signals(question, content, references, points, lang)
    from_verdicts = expected_verdict_score(reading.expected, points)
    overall = reading.overall if reading.overall is not None else from_verdicts
    features = {**signals, "verdicts": from_verdicts, "overall": overall}
    lexical = signals["similarity"]
    # Confidence: the model's two judgements and the content-only estimate agree, nothing odd seen.
    spread = max(from_verdicts, overall, lexical) - min(from_verdicts, overall, lexical)
    confidence = max(0.05, min(0.95, 0.95 - 0.6 * spread - 0.15 * bool(flags)))
    flags = [*flags, "low_confidence"] if confidence < 0.4 else list(flags)
    return {
        "normalized": _apply_caps(load_weights().llm.apply(features), lexical, flags, pasted),
        "verdicts": verdicts,
        "factual_errors": _misstated(points, reading.codes, content, lang),
        "feedback": _feedback(verdicts, lang, flags),
        "missing_points": [v.point for v in verdicts if v.verdict != "covered"],
        "flags": flags,
        "confidence": round(confidence, 2),
        "model_score": round(from_verdicts, 4),
        "overall": round(overall, 4),
        "signals": {k: round(v, 4) for k, v in signals.items()},
    }


def _misstated(points: list[RubricPoint], codes: list[int], content: str, lang: str) -> list[str]:
    """Sentences of the answer that talk about a key point the model judged 0 (missing or wrong):
    the answer addressed the point and got it wrong. Derived from the codes, so the reply stays
    short (see `_verdict_schema`)."""
    found = []
    for point, code in zip(points, codes, strict=True):
        quote, strength = evidence_for(point, content) if code == 0 else ("", 0.0)
        if quote and strength >= _MISSTATED_EVIDENCE:
            found.append(f"“{quote}” — 与要点不符：{point.text}" if lang == "zh"
                         else f"“{quote}” — does not match the key point: {point.text}")
    return found


def _apply_caps(blended: float, lexical: float, flags: list[str], pasted_reference: bool) -> float:
    """Manipulation never pays: flagged answers are held to what their content alone supports."""
    score = blended
    if "injection_attempt" in flags:
        score = min(score, lexical + 0.1)
    if "keyword_stuffing" in flags:
        score = min(score, _CAP_KEYWORD_STUFFING)
    if pasted_reference:
        score = min(score, _CAP_PASTED_REFERENCE)
    if "off_topic" in flags:
        score = min(score, _CAP_OFF_TOPIC)
    return score


def _similarity_grade(
    question: str, content: str, references: list[str], points: list[RubricPoint], flags: list[str], lang: str,
    citations: list[str], base: dict[str, Any], started: float, pasted: bool,
) -> Grade:
    """The no-LLM grade: the `similarity` grader's score, with this grader's screening and caps."""
    signals = lexical_signals(question, content, references, points, lang)
    lexical = signals["similarity"]
    final = _apply_caps(lexical, lexical, flags, pasted)
    verdicts = _lexical_verdicts(points, content)
    flags = [*flags, "fallback_grader"]
    return Grade(
        status="graded", score=round(final * base["score_max"], 2), verdicts=verdicts,
        feedback=_feedback(verdicts, lang, flags), missing_points=[v.point for v in verdicts if v.verdict != "covered"],
        citations=citations, flags=flags, confidence=0.4, grader="similarity", model="",  # type: ignore[arg-type]
        latency=time.perf_counter() - started, signals={k: round(v, 4) for k, v in signals.items()}, **base,
    )


def grade_json(result: Grade) -> str:
    """The Grade as indented JSON (CLI --json)."""
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2)


