"""Sessions: the interview record, its SQLite store, and a candidate's per-topic history."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from interviewer.bank import Lang, RubricPoint
from interviewer.errors import SessionError
from interviewer.grader import Grade
from interviewer.llm import Usage

Mode = Literal["practice", "mock"]
TurnKind = Literal[
    "question", "follow_up", "answer", "skip", "hint", "clarify", "repeat", "end", "off_topic",
    "feedback", "reference", "notice", "report",
]


class InterviewSetup(BaseModel):
    """What the candidate chose before starting."""

    profile: str = Field(default="default", min_length=1, max_length=64, description="Local candidate name.")
    lang: Lang = Field(default="zh", description="Interview language.")
    topics: list[str] = Field(default_factory=list, description="Topic slugs; empty means mixed.")
    difficulty: int | Literal["adaptive"] = Field(default="adaptive", description="1-3 or adaptive.")
    questions: int = Field(default=5, ge=1, le=30, description="Number of main questions.")
    mode: Mode = Field(default="practice", description="practice: grade after each answer; mock: at the end.")
    max_follow_ups: int = Field(default=2, ge=0, le=3, description="Follow-ups per question at most.")


class Turn(BaseModel):
    """One message in the transcript."""

    role: Literal["interviewer", "candidate"]
    kind: TurnKind
    text: str
    question_index: int | None = Field(default=None, description="Which asked question it belongs to.")
    ts: float = Field(default_factory=time.time)


class FollowUp(BaseModel):
    """A follow-up question aimed at one key point, and how the candidate did on it."""

    point_id: str | None = Field(description="The key point it probes; None for a deeper 'why' question.")
    question: str
    answer: str | None = None
    grade: Grade | None = None


class QuestionResult(BaseModel):
    """One asked question with everything the candidate did on it."""

    index: int
    item_id: str
    topic: str
    difficulty: int
    lang: Lang
    question: str
    reference: str
    source: str
    key_points: list[RubricPoint]
    answer: str | None = Field(default=None, description="The main answer (None if skipped/unanswered).")
    grade: Grade | None = Field(default=None, description="Grade of the main answer, once known.")
    provisional: Grade | None = Field(
        default=None, description="The grade follow-ups were decided on (in mock mode: the fast grader's)."
    )
    follow_ups: list[FollowUp] = Field(default_factory=list)
    hints: int = Field(default=0, description="Hints taken; each costs points.")
    skipped: bool = False
    score: float | None = Field(default=None, description="Final 0-10 score including follow-ups and hints.")


class TopicScore(BaseModel):
    """Average score of a topic in one session."""

    topic: str
    mean: float
    count: int


class Report(BaseModel):
    """The end-of-session report."""

    overall: float | None = Field(description="Mean final score over answered questions, 0-10.")
    per_question: list[dict] = Field(default_factory=list, description="index, topic, question, score, verdicts.")
    per_topic: list[TopicScore] = Field(default_factory=list)
    strengths: list[str] = Field(default_factory=list, description="Key points covered well.")
    gaps: list[dict] = Field(
        default_factory=list, description="Up to three most important gaps: point, question, reference, source."
    )
    seconds: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    markdown: str = ""


class SessionRecord(BaseModel):
    """Everything about one interview session; saved after every step."""

    id: str
    setup: InterviewSetup
    status: Literal["active", "finished"] = "active"
    created: float = Field(default_factory=time.time)
    updated: float = Field(default_factory=time.time)
    transcript: list[Turn] = Field(default_factory=list)
    questions: list[QuestionResult] = Field(default_factory=list)
    difficulty_now: int = Field(default=2, ge=1, le=3, description="Current difficulty (adaptive mode).")
    pending_input: str | None = Field(default=None, description="A candidate message not yet processed.")
    usage: Usage = Field(default_factory=Usage)
    notices: list[str] = Field(default_factory=list, description="Problems shown to the candidate (e.g. model down).")
    report: Report | None = None

    @property
    def current(self) -> QuestionResult | None:
        return self.questions[-1] if self.questions else None


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_profile ON sessions(profile, updated);
CREATE TABLE IF NOT EXISTS topic_scores (
    session_id TEXT NOT NULL,
    profile TEXT NOT NULL,
    topic TEXT NOT NULL,
    item_id TEXT NOT NULL,
    score REAL NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (session_id, item_id)
);
CREATE TABLE IF NOT EXISTS grade_cache (
    key TEXT PRIMARY KEY,
    grade TEXT NOT NULL
);
"""


class SessionStore:
    """SQLite-backed sessions (one row per session, the record as JSON) and per-topic history.

    Writes are small and committed immediately (WAL journal), so a killed process loses nothing
    that was saved; a lock serialises writers from the UI's worker threads."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._conn:
            yield self._conn

    def close(self) -> None:
        self._conn.close()

    # --- records -------------------------------------------------------------------------------
    def save(self, record: SessionRecord) -> None:
        record.updated = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions(id, profile, status, created, updated, record) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET status=excluded.status, updated=excluded.updated, "
                "record=excluded.record",
                (record.id, record.setup.profile, record.status, record.created, record.updated,
                 record.model_dump_json()),
            )

    def load(self, session_id: str) -> SessionRecord:
        row = self._conn.execute("SELECT record FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise SessionError(f"no session {session_id!r}; `interviewer sessions` lists the saved ones")
        return SessionRecord.model_validate_json(row[0])

    def exists(self, session_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM sessions WHERE id=?", (session_id,)).fetchone() is not None

    def list_records(self, profile: str | None = None, limit: int = 100) -> list[SessionRecord]:
        query = "SELECT record FROM sessions"
        args: tuple = ()
        if profile:
            query += " WHERE profile=?"
            args = (profile,)
        query += " ORDER BY updated DESC LIMIT ?"
        rows = self._conn.execute(query, (*args, limit)).fetchall()
        return [SessionRecord.model_validate_json(r[0]) for r in rows]

    def delete(self, session_id: str) -> None:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM sessions WHERE id=?", (session_id,)).rowcount
            conn.execute("DELETE FROM topic_scores WHERE session_id=?", (session_id,))
        if not gone:
            raise SessionError(f"no session {session_id!r} to delete")

    # --- history ---------------------------------------------------------------------------------
    def record_score(self, record: SessionRecord, result: QuestionResult) -> None:
        """Remember a final question score for the candidate's per-topic history."""
        if result.score is None:
            return
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO topic_scores(session_id, profile, topic, item_id, score, ts) "
                "VALUES (?,?,?,?,?,?)",
                (record.id, record.setup.profile, result.topic, result.item_id, result.score, time.time()),
            )

    def topic_means(self, profile: str) -> dict[str, tuple[float, int]]:
        """Mean 0-10 score and count per topic over the profile's history."""
        rows = self._conn.execute(
            "SELECT topic, AVG(score), COUNT(*) FROM topic_scores WHERE profile=? GROUP BY topic", (profile,)
        ).fetchall()
        return {topic: (mean, count) for topic, mean, count in rows}

    def topic_history(self, profile: str) -> dict[str, list[tuple[float, float]]]:
        """(timestamp, score) points per topic, oldest first: progress over time."""
        series: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for topic, ts, score in self._conn.execute(
            "SELECT topic, ts, score FROM topic_scores WHERE profile=? ORDER BY ts", (profile,)
        ):
            series[topic].append((ts, score))
        return dict(series)

    def recent_item_ids(self, profile: str, limit: int = 60) -> list[str]:
        """Questions the candidate saw most recently (finished or not), newest first."""
        seen: list[str] = []
        for record in self.list_records(profile, limit=50):
            for q in reversed(record.questions):
                if q.item_id not in seen:
                    seen.append(q.item_id)
        return seen[:limit]

    # --- grades computed in the background (mock mode) -------------------------------------------
    def cache_grade(self, key: str, grade: Grade) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO grade_cache(key, grade) VALUES (?,?)", (key, grade.model_dump_json()))

    def cached_grade(self, key: str) -> Grade | None:
        row = self._conn.execute("SELECT grade FROM grade_cache WHERE key=?", (key,)).fetchone()
        return Grade.model_validate_json(row[0]) if row else None


def export_json(record: SessionRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False, indent=2)
