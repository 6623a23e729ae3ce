"""Ingest: read article files, strip site chrome, split into Q&A units, chunk by tokens, store."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, Field

from interviewer.bank import BankItem


class Chunk(BaseModel):
    """A piece of an article as stored in the "articles" collection."""

    id: str = Field(description="Deterministic: derived from source, fingerprint and position.")
    text: str = Field(description="The chunk's text (question line included when it has one).")
    source: str = Field(description="The article file, as an absolute path.")
    title: str = Field(description="The article's title.")
    question: str = Field(default="", description="The Q&A unit's question, '' for preamble text.")
    position: int = Field(ge=0, description="Order of the chunk within the article.")
    content_hash: str = Field(description="SHA-256 of `text`.")
    lang: Literal["zh", "en"] = Field(description="Main language of the text.")


class SourceStore(Protocol):
    """What ingestion needs from the vector store (implemented by store.KnowledgeStore)."""

    def source_fingerprint(self, source: str) -> str | None:
        """The fingerprint stored for `source`, or None if it was never ingested."""
        ...

    def replace_source(self, source: str, fingerprint: str, chunks: list[Chunk], items: list[BankItem]) -> None:
        """Make `chunks` and `items` the only stored content of `source`, all or nothing."""
        ...
