"""The KnowledgeStore in process memory: for unit tests and one-off local evaluation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np

from shared.kb.models import Chunk, StoredArticle
from shared.kb.ports import IndexInfo


class InMemoryKnowledgeStore:
    """Articles, chunks and embeddings in dicts; vector search is exact cosine with numpy."""

    def __init__(self) -> None:
        self.articles: dict[str, StoredArticle] = {}
        self.chunks: dict[str, Chunk] = {}
        self.embeddings: dict[str, list[float]] = {}
        self.info = IndexInfo(version="empty")
        self.writes = 0  # chunk and article documents written, for tests

    def stored_articles(self) -> dict[str, StoredArticle]:
        """What is stored about each ingested article, by article id."""
        return dict(self.articles)

    def save_article(
        self,
        article: StoredArticle,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]] | None,
    ) -> None:
        """Replace the article's chunks (dropping any it no longer has), then record it."""
        if embeddings is not None and len(embeddings) != len(chunks):
            raise ValueError("one embedding per chunk")
        keep = {chunk.chunk_id for chunk in chunks}
        self._drop_chunks(article.article_id, keep)
        for i, chunk in enumerate(chunks):
            self.chunks[chunk.chunk_id] = chunk
            if embeddings is not None:
                self.embeddings[chunk.chunk_id] = [float(x) for x in embeddings[i]]
            else:
                self.embeddings.pop(chunk.chunk_id, None)
        self.articles[article.article_id] = article
        self.writes += len(chunks) + 1
        dimensions = len(embeddings[0]) if embeddings else self.info.dimensions
        self.info = IndexInfo(uuid.uuid4().hex, article.embedding_model, dimensions)

    def delete_article(self, article_id: str) -> None:
        """Remove an article and all its chunks."""
        self._drop_chunks(article_id, keep=set())
        self.articles.pop(article_id, None)
        self.info = IndexInfo(uuid.uuid4().hex, self.info.embedding_model, self.info.dimensions)

    def _drop_chunks(self, article_id: str, keep: set[str]) -> None:
        for chunk_id in [c.chunk_id for c in self.chunks.values() if c.article_id == article_id]:
            if chunk_id not in keep:
                del self.chunks[chunk_id]
                self.embeddings.pop(chunk_id, None)

    def load_chunks(self) -> list[Chunk]:
        """Every chunk, by chunk id."""
        return [self.chunks[chunk_id] for chunk_id in sorted(self.chunks)]

    def index_info(self) -> IndexInfo:
        """The version stamp and embedding model."""
        return self.info

    def nearest_chunks(self, vector: Sequence[float], k: int) -> list[tuple[Chunk, float]]:
        """The k chunks of highest cosine similarity (those of another dimension never match)."""
        query = np.asarray(vector, dtype=float)
        ids = [i for i, v in self.embeddings.items() if len(v) == len(query)]
        if not ids or not np.any(query):
            return []
        matrix = np.asarray([self.embeddings[i] for i in ids], dtype=float)
        norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
        similarity = (matrix @ query) / np.where(norms == 0, 1.0, norms)
        order = np.argsort(-similarity, kind="stable")[:k]
        return [(self.chunks[ids[i]], float(similarity[i])) for i in order]
