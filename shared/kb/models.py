"""The knowledge base's document shapes: articles, their chunks, and what an ingest did.

Ids are stable across runs and machines: an article's id is a hash of its source (the file
name relative to the ingested directory), a chunk's id is that hash plus the chunk's
position, so re-ingesting a file overwrites the same Firestore documents.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ArticleFormat = Literal["md", "html", "txt"]


def article_id_for(source: str) -> str:
    """The stable id of the article read from `source` (a relative posix path)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]


def chunk_id_for(source: str, position: int) -> str:
    """The stable id of chunk number `position` of the article read from `source`."""
    return f"{article_id_for(source)}-{position:04d}"


class Block(BaseModel):
    """One heading or paragraph of an article's body, as plain text."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["heading", "paragraph"]
    text: str
    level: int = 0  # heading level (1-6); 0 for paragraphs


class Article(BaseModel):
    """One knowledge-base article: a file, its title and its body as plain-text blocks."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    source: str = Field(description="file name relative to the ingested directory (posix)")
    title: str
    format: ArticleFormat
    content_hash: str = Field(description="sha256 of the file's bytes")
    blocks: tuple[Block, ...] = ()


class Chunk(BaseModel):
    """A retrievable piece of an article (at most the chunker's max size)."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    article_id: str
    source: str
    title: str
    heading: str | None = Field(default=None, description="section the chunk starts in")
    position: int = Field(ge=0, description="index of the chunk within its article")
    text: str

    @property
    def search_text(self) -> str:
        """What is indexed: the article title and section heading give every chunk context."""
        parts = [self.title, self.heading or "", self.text]
        return "\n".join(part for part in parts if part)


class StoredArticle(BaseModel):
    """What the store remembers about an ingested article to decide whether it changed."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    source: str
    title: str
    content_hash: str
    # Chunker version and sizes: a change of chunking re-chunks every article.
    chunking: str
    # The embedder's name, or None when the chunks carry no embedding.
    embedding_model: str | None = None
    chunk_count: int = 0


class IngestReport(BaseModel):
    """What one ingest changed: source names per outcome, and the chunks written."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    chunks: int = Field(default=0, description="chunks written (added and updated articles)")

    @property
    def changed(self) -> bool:
        """True if the index differs from before the ingest."""
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, removed {len(self.removed)}, "
            f"chunks written {self.chunks}"
        )
