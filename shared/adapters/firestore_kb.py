"""The knowledge base's store on Firestore (the emulator locally, native mode in the cloud).

Layout:
    kb_articles/{article_id}  StoredArticle: source, title, content hash, chunking, embedder
    kb_chunks/{chunk_id}      Chunk fields, plus `embedding` (a Firestore Vector) when the
                              article was embedded
    kb_meta/index             {version, embedding_model, dimensions, updated_at}: the version
                              stamp readers cache the BM25 index against

Writes per article: the chunks, the deletions of chunks it no longer has, the article record
and a new version stamp, in one atomic batch (or, for an article of more than ~95 chunks,
in several, the record and the stamp in the last), so an interrupted save leaves the old
content hash and is redone by the next ingest. Ingest is a single writer,
so kb_meta/index is never contended.

Vector search is `find_nearest` with cosine distance, the same call locally and in the cloud.
The emulator searches exactly without an index; the cloud needs a vector index on
kb_chunks.embedding with the embedder's dimension, e.g.

    gcloud firestore indexes composite create --collection-group=kb_chunks \\
      --query-scope=COLLECTION \\
      --field-config=field-path=embedding,vector-config='{"dimension":"768","flat":"{}"}'

and a new one whenever the embedder's dimension changes. A query vector whose dimension
differs from the stored ones matches nothing (silently, on the emulator), so it is refused
here instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, cast

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
from google.cloud.firestore_v1.vector import Vector
from google.cloud.firestore_v1.vector_query import VectorQuery

from shared.gcp.firestore import FirestoreAdapter
from shared.kb.models import Chunk, StoredArticle
from shared.kb.ports import IndexInfo

ARTICLES = "kb_articles"
CHUNKS = "kb_chunks"
META = "kb_meta"
INDEX_DOC = "index"
EMBEDDING_FIELD = "embedding"
DISTANCE_FIELD = "vector_distance"
# Writes per batch: well under Firestore's 500, and under its 4 MiB request cap even with
# 2048-dimension vectors (~19 KB each).
BATCH_SIZE = 100
MAX_NEAREST = 1000  # Firestore's limit for find_nearest
_CHUNK_FIELDS = list(Chunk.model_fields)
# One write of a batch, applied when the batch is assembled.
_Write = Callable[[firestore.WriteBatch], None]


class FirestoreKnowledgeStore(FirestoreAdapter):
    """KnowledgeStore implemented with the official google-cloud-firestore client."""

    def _meta_ref(self) -> firestore.DocumentReference:
        return self.client.collection(META).document(INDEX_DOC)

    def stored_articles(self) -> dict[str, StoredArticle]:
        """What is stored about each ingested article, by article id."""
        articles = (
            StoredArticle.model_validate(snap.to_dict())
            for snap in self.client.collection(ARTICLES).stream()
        )
        return {article.article_id: article for article in articles}

    def save_article(
        self,
        article: StoredArticle,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]] | None,
    ) -> None:
        """Replace the article's chunks (dropping any it no longer has), then record it.

        Up to BATCH_SIZE writes (an article of up to ~95 chunks) go in one atomic batch;
        a longer article is written in several, with the record and the stamp in the last.
        """
        if embeddings is not None and len(embeddings) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        chunk_docs = self.client.collection(CHUNKS)
        writes: list[_Write] = []
        for i, chunk in enumerate(chunks):
            data: dict[str, Any] = chunk.model_dump()
            if embeddings is not None:
                data[EMBEDDING_FIELD] = Vector([float(x) for x in embeddings[i]])
            writes.append(partial(_set, chunk_docs.document(chunk.chunk_id), data))
        stale = self._chunk_ids_of(article.article_id) - {chunk.chunk_id for chunk in chunks}
        writes += [partial(_delete, chunk_docs.document(chunk_id)) for chunk_id in sorted(stale)]
        record = {**article.model_dump(), "updated_at": firestore.SERVER_TIMESTAMP}
        article_doc = self.client.collection(ARTICLES).document(article.article_id)
        dimensions = len(embeddings[0]) if embeddings else None
        self._commit(
            writes,
            last=[
                partial(_set, article_doc, record),
                partial(
                    self._stamp, embedding_model=article.embedding_model, dimensions=dimensions
                ),
            ],
        )

    def delete_article(self, article_id: str) -> None:
        """Remove an article and all its chunks."""
        chunk_docs = self.client.collection(CHUNKS)
        writes: list[_Write] = [
            partial(_delete, chunk_docs.document(chunk_id))
            for chunk_id in sorted(self._chunk_ids_of(article_id))
        ]
        info = self.index_info()
        article_doc = self.client.collection(ARTICLES).document(article_id)
        self._commit(
            writes,
            last=[
                partial(_delete, article_doc),
                partial(
                    self._stamp, embedding_model=info.embedding_model, dimensions=info.dimensions
                ),
            ],
        )

    def _commit(self, writes: list[_Write], last: list[_Write]) -> None:
        # `last` always shares the final batch, whose commit makes the change visible.
        ordered = writes + last
        cut = max(0, len(ordered) - BATCH_SIZE)
        for part in [*_parts(ordered[:cut], BATCH_SIZE), ordered[cut:]]:
            batch = self.client.batch()
            for write in part:
                write(batch)
            batch.commit()

    def _stamp(
        self, batch: firestore.WriteBatch, embedding_model: str | None, dimensions: int | None
    ) -> None:
        stamp = {
            "version": uuid.uuid4().hex,
            "embedding_model": embedding_model,
            "dimensions": dimensions,
            "updated_at": firestore.SERVER_TIMESTAMP,
        }
        batch.set(self._meta_ref(), stamp)

    def _chunk_ids_of(self, article_id: str) -> set[str]:
        query = (
            self.client.collection(CHUNKS)
            .where(filter=FieldFilter("article_id", "==", article_id))
            .select([])  # ids only
        )
        return {snap.id for snap in query.stream()}

    def load_chunks(self) -> list[Chunk]:
        """Every chunk, by chunk id, without the embeddings (not fetched at all)."""
        query = self.client.collection(CHUNKS).select(_CHUNK_FIELDS)
        chunks = [Chunk.model_validate(snap.to_dict()) for snap in query.stream()]
        return sorted(chunks, key=lambda chunk: chunk.chunk_id)

    def index_info(self) -> IndexInfo:
        """The version stamp and embedding model of kb_meta/index ("empty" before any ingest)."""
        snap = self._meta_ref().get()
        if not snap.exists:
            return IndexInfo(version="empty")
        data = snap.to_dict() or {}
        return IndexInfo(
            version=str(data.get("version", "empty")),
            embedding_model=data.get("embedding_model"),
            dimensions=data.get("dimensions"),
        )

    def nearest_chunks(self, vector: Sequence[float], k: int) -> list[tuple[Chunk, float]]:
        """The k chunks of highest cosine similarity (1 - Firestore's cosine distance)."""
        dimensions = self.index_info().dimensions
        if dimensions is None or not any(vector):
            # No embedded chunks; or a zero vector, whose cosine distance the emulator
            # reports as NaN for every document.
            return []
        if len(vector) != dimensions:
            raise ValueError(f"query vector has {len(vector)} dimensions, chunks {dimensions}")
        nearest = (
            self.client.collection(CHUNKS)
            .select([*_CHUNK_FIELDS, DISTANCE_FIELD])
            .find_nearest(
                vector_field=EMBEDDING_FIELD,
                query_vector=Vector([float(x) for x in vector]),
                limit=max(1, min(k, MAX_NEAREST)),
                distance_measure=DistanceMeasure.COSINE,
                distance_result_field=DISTANCE_FIELD,
            )
        )
        # Query.find_nearest is annotated as returning Type[VectorQuery]; it returns one.
        query = cast(VectorQuery, nearest)
        results = []
        for snap in query.stream():
            data = snap.to_dict() or {}
            distance = float(data.pop(DISTANCE_FIELD))
            results.append((Chunk.model_validate(data), 1.0 - distance))
        return results


def _set(
    document: firestore.DocumentReference, data: dict[str, Any], batch: firestore.WriteBatch
) -> None:
    batch.set(document, data)


def _delete(document: firestore.DocumentReference, batch: firestore.WriteBatch) -> None:
    batch.delete(document)


def _parts(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
