"""Fakes for interview tests: a tiny bank, a scripted grader, and deps wiring (also used by the kill driver)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from interviewer.bank import BankItem, QuestionView, RubricPoint
from interviewer.grader import Grade, PointVerdict
from interviewer.interview import InterviewDeps
from interviewer.sessions import SessionStore

TOPICS = ("dropout", "cnn", "optimizers")


def _point(text: str) -> dict:
    return {"point": text, "covers": f"mentions {text}", "follow_up": f"Can you say more about {text}?"}


def _zh_point(text: str) -> dict:
    return {"point": text, "covers": f"提到{text}", "follow_up": f"能再讲讲{text}吗？"}


def make_items(per_topic: int = 4) -> list[BankItem]:
    """Items q-<topic>-<n>, difficulty cycling 1..3, three key points weighted 3/2/1."""
    items = []
    for topic in TOPICS:
        for n in range(per_topic):
            items.append(BankItem.model_validate({
                "id": f"q-{topic}-{n}", "topic": topic, "difficulty": 1 + n % 3,
                "zh": {"question": f"{topic} 问题 {n}？", "reference": f"{topic} 的参考答案，包含要点甲乙丙。"},
                "en": {"question": f"{topic} question {n}?", "reference": f"Reference for {topic}: alpha, beta, gamma."},
                "key_points": [
                    {"weight": 3, "zh": _zh_point("要点甲"), "en": _point("alpha")},
                    {"weight": 2, "zh": _zh_point("要点乙"), "en": _point("beta")},
                    {"weight": 1, "zh": _zh_point("要点丙"), "en": _point("gamma")},
                ],
            }))
    return items


class ScriptedGrader:
    """Grades by keywords: 'alpha'/'beta'/'gamma' (or 甲/乙/丙) in the answer cover those points.
    Records every call; an optional delay lets a test kill the process mid-grading."""

    WORDS: ClassVar[dict[str, tuple[str, str]]] = {"k1": ("alpha", "甲"), "k2": ("beta", "乙"), "k3": ("gamma", "丙")}

    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.calls: list[tuple[str, str, list[str] | None]] = []
        self.delay = delay
        self.fail = fail

    def __call__(self, view: QuestionView, answer: str, points: list[RubricPoint] | None) -> Grade:
        self.calls.append((view.id, answer, [p.id for p in points] if points else None))
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            return Grade(status="ungraded", error="model unreachable")
        rubric = points or view.key_points
        verdicts = [
            PointVerdict(
                point_id=p.id, point=p.text, weight=p.weight,
                verdict="covered" if any(w in answer.lower() for w in self.WORDS[p.id]) else "missing",
            )
            for p in rubric
        ]
        total = sum(p.weight for p in rubric)
        got = sum(v.weight for v in verdicts if v.verdict == "covered")
        return Grade(status="graded", score=round(10 * got / total, 1), score_max=10, verdicts=verdicts,
                     feedback="ok", grader="scripted")


def make_deps(data_dir: Path, grader: ScriptedGrader | None = None, seed: int = 7) -> InterviewDeps:
    grader = grader or ScriptedGrader()
    return InterviewDeps(
        items=make_items(), sessions=SessionStore(data_dir / "sessions.sqlite"), grade=grader,
        quick_grade=grader, checkpoint_path=str(data_dir / "checkpoints.sqlite"), seed=seed,
    )
