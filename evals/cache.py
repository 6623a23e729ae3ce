"""Grade cache: finished grades keyed by (row content hash, grader identity), in SQLite in the data dir.

It lives in the data dir, not in a run's output dir, so a new run (a new timestamped dir) of
the same rows with the same grader, model, prompt version and parameters grades nothing twice.
Only finished grades are stored; failures are retried on the next run.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from interviewer.grader import Grade

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    row_hash TEXT NOT NULL,
    identity TEXT NOT NULL,
    grade TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (row_hash, identity)
)
"""


class GradeCache:
    """Used from one thread (the runner's main thread); each put is its own committed transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")  # readers from parallel runs do not block writers
        # WAL + NORMAL survives a killed process (only a power cut may drop the last commits); a
        # full fsync per row here doubled the run time of fast graders, and predictions.jsonl,
        # which is fsynced per row, already holds every finished grade.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get(self, row_hash: str, identity: str) -> Grade | None:
        found = self._db.execute(
            "SELECT grade FROM grades WHERE row_hash = ? AND identity = ?", (row_hash, identity)
        ).fetchone()
        return Grade.model_validate_json(found[0]) if found else None

    def put(self, row_hash: str, identity: str, grade: Grade) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?)",
                (row_hash, identity, grade.model_dump_json(), time.time()),
            )

    def close(self) -> None:
        self._db.close()
