"""Picker: choose the next question — weak topics first, nothing seen recently, at the right difficulty."""

from __future__ import annotations

import random
from collections.abc import Sequence

from interviewer.bank import BankItem

# A topic the candidate has never been scored on counts as middling (5/10): new topics get asked,
# but a topic with a known low score is preferred over it.
_UNKNOWN_TOPIC_SCORE = 5.0


# A topic already asked in this session is drawn less often, so a session covers several topics.
_REPEAT_TOPIC_FACTOR = 0.25


def topic_weight(topic: str, topic_means: dict[str, tuple[float, int]], asked_topics: Sequence[str] = ()) -> float:
    """Higher for topics with lower past scores: (10 - mean) + 1, so even strong topics stay possible;
    divided down for each time the topic was already asked in this session."""
    mean = topic_means.get(topic, (_UNKNOWN_TOPIC_SCORE, 0))[0]
    return ((10.0 - mean) + 1.0) * _REPEAT_TOPIC_FACTOR ** asked_topics.count(topic)


def next_difficulty(current: int, last_score: float | None) -> int:
    """Adaptive difficulty: up after a strong answer (>= 8/10), down after a weak one (< 4/10)."""
    if last_score is None:
        return current
    if last_score >= 8.0:
        return min(3, current + 1)
    if last_score < 4.0:
        return max(1, current - 1)
    return current


def pick_question(
    items: Sequence[BankItem],
    *,
    topics: Sequence[str],
    difficulty: int,
    asked: set[str],
    asked_topics: Sequence[str] = (),
    recent: Sequence[str],
    topic_means: dict[str, tuple[float, int]],
    lang: str,
    rng: random.Random,
) -> BankItem | None:
    """The next item, or None when nothing is left to ask.

    Candidates are narrowed step by step and a step is skipped when it would leave nothing:
    chosen topics -> not asked in this session (hard rule) -> not seen recently -> the wanted
    difficulty (else the nearest one). Then a topic is drawn weighted by weakness, then an item."""
    pool = [i for i in items if i.id not in asked and getattr(i, lang, None) is not None]
    if topics:
        in_topics = [i for i in pool if i.topic in topics]
        pool = in_topics or pool
    if not pool:
        return None
    recent_set = set(recent)
    fresh = [i for i in pool if i.id not in recent_set]
    pool = fresh or pool
    distance = min(abs(i.difficulty - difficulty) for i in pool)
    pool = [i for i in pool if abs(i.difficulty - difficulty) == distance]
    by_topic: dict[str, list[BankItem]] = {}
    for item in pool:
        by_topic.setdefault(item.topic, []).append(item)
    names = sorted(by_topic)
    topic = rng.choices(names, weights=[topic_weight(t, topic_means, asked_topics) for t in names])[0]
    return rng.choice(by_topic[topic])
