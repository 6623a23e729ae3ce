"""Question picking: weak topics first, no repeats, nearest difficulty; adaptive difficulty steps."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from interview_fakes import make_items

from interviewer.picker import next_difficulty, pick_question, topic_weight


def _pick(**overrides: object) -> str:
    options: dict = {
        "topics": [], "difficulty": 2, "asked": set(), "recent": [], "topic_means": {}, "lang": "en",
        "rng": random.Random(0),
    } | overrides
    item = pick_question(make_items(), **options)
    assert item is not None
    return item.id


def test_weak_topics_are_picked_more_often() -> None:
    rng = random.Random(1)
    means = {"dropout": (2.0, 5), "cnn": (9.5, 5), "optimizers": (9.5, 5)}
    counts = Counter(_pick(topic_means=means, rng=rng).split("-")[1] for _ in range(300))
    assert counts["dropout"] > counts["cnn"] + counts["optimizers"]


def test_topic_weight_prefers_unseen_over_strong_and_weak_over_unseen() -> None:
    means = {"weak": (2.0, 3), "strong": (9.0, 3)}
    assert topic_weight("weak", means) > topic_weight("new", means) > topic_weight("strong", means)
    assert topic_weight("new", means, ["new"]) < topic_weight("new", means)


def test_asked_items_are_never_repeated_and_recent_ones_avoided() -> None:
    items = make_items()
    everything = {i.id for i in items}
    assert pick_question(items, topics=[], difficulty=2, asked=everything, recent=[], topic_means={},
                         lang="en", rng=random.Random(0)) is None
    recent = [i.id for i in items if i.id != "q-cnn-1"]
    assert _pick(recent=recent) == "q-cnn-1"


def test_chosen_topics_and_nearest_difficulty() -> None:
    assert _pick(topics=["cnn"], difficulty=3).startswith("q-cnn-")
    picked = _pick(topics=["cnn"], difficulty=3, asked={"q-cnn-2"})
    assert picked == "q-cnn-1", "no other difficulty-3 cnn item, so the nearest difficulty (2) is used"


@pytest.mark.parametrize(
    ("current", "score", "expected"),
    [(2, 9.0, 3), (3, 9.0, 3), (2, 2.0, 1), (1, 0.0, 1), (2, 6.0, 2), (2, None, 2)],
)
def test_next_difficulty(current: int, score: float | None, expected: int) -> None:
    assert next_difficulty(current, score) == expected
