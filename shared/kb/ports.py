"""What the knowledge base needs from storage; Firestore and an in-memory store provide it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.kb.models import Chunk, StoredArticle


@dataclass(frozen=True)
class IndexInfo:
    """The store's version stamp (changes with every write) and how its chunks were embedded."""

    version: str
    embedding_model: str | None = None
    dimensions: int | None = None


class ChunkSource(Protocol):
    """Where the BM25 index is built from."""

    def load_chunks(self) -> list[Chunk]:
        """Every chunk of every article (without embeddings), by chunk id."""
        ...

    def index_info(self) -> IndexInfo:
        """The current version stamp; an unchanged stamp means unchanged chunks."""
        ...


class VectorSearcher(Protocol):
    """Nearest-neighbour search over chunk embeddings."""

    def nearest_chunks(self, vector: Sequence[float], k: int) -> list[tuple[Chunk, float]]:
        """The k chunks most similar to `vector`, most similar first, with cosine similarity."""
        ...


class KnowledgeStore(ChunkSource, VectorSearcher, Protocol):
    """Durable articles and chunks, written incrementally by ingest."""

    def stored_articles(self) -> dict[str, StoredArticle]:
        """What is stored about each ingested article, by article id."""
        ...

    def save_article(
        self,
        article: StoredArticle,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]] | None,
    ) -> None:
        """Replace the article's chunks (dropping any it no longer has), then record it.

        The article record is written last, so an interrupted save leaves the old content
        hash behind and the next ingest does the article again.
        """
        ...

    def delete_article(self, article_id: str) -> None:
        """Remove an article and all its chunks."""
        ...
