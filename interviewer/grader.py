"""Grader: the `Grade` result and `grade()`, which scores an answer against a key-point rubric."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from interviewer.llm import Usage

Verdict = Literal["covered", "partly", "missing"]
Flag = Literal[
    "empty", "off_topic", "injection_attempt", "truncated", "wrong_language", "reference_copy",
    "keyword_stuffing", "fallback_grader", "low_confidence",
]


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

    @property
    def normalized(self) -> float | None:
        """Score on 0..1, or None when ungraded."""
        return None if self.score is None else self.score / self.score_max
