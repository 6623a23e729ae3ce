"""Shared fixtures: every test gets its own data dir; unit tests cannot reach the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from interviewer.tokens import seed_tiktoken_cache

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
DATASETS = SHARED / "datasets"


@pytest.fixture(scope="session")
def tiktoken_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_tiktoken_cache(tmp_path_factory.mktemp("tiktoken"))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiktoken_cache: Path) -> Path:
    """All state goes to tmp_path; no endpoint or key leaks in from the developer's shell."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("INTERVIEWER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_MODEL", "INTERVIEWER_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so a stray relative path or .env never touches the repo
    return data_dir


_LOCAL_HOSTS = ("127.", "localhost", "::1")
_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else str(address)
    if self.family == socket.AF_UNIX or str(host).startswith(_LOCAL_HOSTS):
        return _real_connect(self, address)  # type: ignore[arg-type]
    raise OSError(f"tests may not reach the network (tried {address!r})")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection beyond loopback fails loudly: the default test run needs no network."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="session")
def small_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged 0.5B GGUF, assembled and verified once per test run (491 MB) and shared by the
    integration tests that need a real model server but not its judgement."""
    from interviewer.local_model import PACKAGED_MODELS, assemble

    return assemble(PACKAGED_MODELS["0.5b"], tmp_path_factory.mktemp("models"))
