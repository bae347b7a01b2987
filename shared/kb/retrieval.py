"""Hybrid retrieval over the knowledge base: BM25 always, fused with vector search by rank.

BM25 (bm25s, Lucene variant, k1=1.5, b=0.75) indexes each chunk's `search_text` (article
title, section heading and text), tokenised by shared.kb.text. When the chunks were embedded,
the query's embedding is searched too and the two rankings are merged with reciprocal-rank
fusion: score(chunk) = sum over rankings of 1 / (RRF_K + rank), rank counted from 1. Ranks,
not scores, are fused because BM25 scores and cosine similarities are not on one scale.

Confidence, in [0, 1], says how well the knowledge base covers the query, for the support
agent to threshold (escalate below it). It is lexical and computed from BM25's own IDF:

    coverage = sum of idf(t) over the query's distinct terms found in the article of the
               best hit (any of its chunks) / sum of idf(t) over all the query's distinct terms
    confidence = coverage * sqrt(min(1, known_terms / 2))

A term the knowledge base has never seen counts with the highest IDF (it is as specific as a
term can be, and nothing answers it); stopwords do not count, and frequent words weigh
little. The square-root factor damps a query with a single known term (one shared word is
weak evidence). The article, not the chunk, is what the agent answers from, and measuring on
it separated answerable from unanswerable messages best. Examples: "I was charged twice for
my order" 1.0, "how long do refunds take" 0.75, "write me a poem about kettles" 0.21, "what
is the capital of Australia" 0.11, but "can you recommend a good lawyer" 0.40, because an
article recommends two-step verification: the measure is lexical.

On the bundled evaluation set (94 answerable English messages against 12 that no article
answers: 10 questions outside the knowledge base and 2 pleasantries) the ROC AUC is 0.91
(0.89 measured on the best chunk alone); a threshold of 0.3 keeps 80% of the answerable and
turns away 83% of the others, 0.35 keeps 74% and turns away all of them. It is one signal
for the escalation check, not a verdict on its own.

The vector side does not enter the confidence: cosine similarities are calibrated differently
by every embedding model, while this measure means the same thing whatever embedder is set.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import bm25s

from shared.core.pii import PiiMask
from shared.kb.confidence import Evidence, calibrated_confidence
from shared.kb.embeddings import Embedder
from shared.kb.models import Chunk
from shared.kb.ports import ChunkSource, IndexInfo, KnowledgeStore, VectorSearcher
from shared.kb.text import tokenize, tokenize_one

logger = logging.getLogger(__name__)

RRF_K = 60
# How many candidates each side contributes to the fusion.
FUSION_CANDIDATES = 20


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: its score (BM25, or fused RRF) and its rank, counted from 1."""

    chunk: Chunk
    score: float
    rank: int


@dataclass(frozen=True)
class Retrieval:
    """The hits for a query and how confident the knowledge base is that it covers it."""

    query: str
    hits: list[Hit]
    confidence: float
    evidence: Evidence | None = None


class BM25Index:
    """An in-memory BM25 index over chunks (rebuilt, never updated in place)."""

    def __init__(self, chunks: Sequence[Chunk], k1: float = 1.5, b: float = 0.75) -> None:
        self.chunks = list(chunks)
        corpus = tokenize([chunk.search_text for chunk in self.chunks])
        self._article_terms: dict[str, set[str]] = {}
        for chunk, tokens in zip(self.chunks, corpus, strict=True):
            self._article_terms.setdefault(chunk.article_id, set()).update(tokens)
        n_docs = len(corpus)
        document_frequency: dict[str, int] = {}
        for tokens in corpus:
            for term in set(tokens):
                document_frequency[term] = document_frequency.get(term, 0) + 1
        # Lucene's IDF, the one bm25s scores with; an unseen term gets the df=0 value.
        self._idf = {term: _lucene_idf(df, n_docs) for term, df in document_frequency.items()}
        self._unseen_idf = _lucene_idf(0, max(n_docs, 1))
        self._bm25: bm25s.BM25 | None = None
        if any(corpus):
            self._bm25 = bm25s.BM25(k1=k1, b=b)
            self._bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return len(self.chunks)

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k best chunks for the query (fewer when fewer share a term with it)."""
        terms = [t for t in tokenize_one(query) if t in self._idf]
        if self._bm25 is None or not terms or k <= 0:
            return []
        # bm25s's own top-k (a partial sort over its sparse scores), not a sort of them all.
        ids, scores = self._bm25.retrieve(
            [terms], k=min(k, len(self.chunks)), show_progress=False, n_threads=0
        )
        found = [(int(i), float(score)) for i, score in zip(ids[0], scores[0], strict=True)]
        return [
            Hit(self.chunks[i], score, rank)
            for rank, (i, score) in enumerate((pair for pair in found if pair[1] > 0), start=1)
        ]

    def confidence(self, query: str, best: Chunk | None = None) -> float:
        """How well the article of the best chunk (BM25's top hit unless given) covers the
        query, in [0, 1]; see the module's docstring."""
        terms = set(tokenize_one(query))
        if not terms:
            return 0.0
        if best is None:
            hits = self.search(query, 1)
            if not hits:
                return 0.0
            best = hits[0].chunk
        found = self._article_terms.get(best.article_id, set())
        weights = {term: self._idf.get(term, self._unseen_idf) for term in terms}
        covered = sum(weight for term, weight in weights.items() if term in found)
        known = sum(1 for term in terms if term in self._idf)
        coverage = covered / sum(weights.values())
        return round(coverage * math.sqrt(min(1.0, known / 2)), 4)


def _lucene_idf(df: int, n_docs: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = RRF_K
) -> list[tuple[str, float]]:
    """Merge rankings of ids (best first) into one, scored by sum of 1 / (k + rank).

    Ties keep the order in which ids were first met, rankings taken in the order given.
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(dict.fromkeys(ranking), start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


class HybridRetriever:
    """BM25 fused with vector search; plain BM25 when no embedder or vectors are given."""

    def __init__(
        self,
        index: BM25Index,
        vectors: VectorSearcher | None = None,
        embedder: Embedder | None = None,
        candidates: int = FUSION_CANDIDATES,
    ) -> None:
        self.index = index
        self.vectors = vectors if embedder is not None else None
        self.embedder = embedder
        self.candidates = candidates

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k best chunks for the query."""
        return self.retrieve(query, k).hits

    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """The k best chunks and the confidence (computed on the best of them)."""
        lexical = self.index.search(query, max(k, self.candidates))
        dense = self._dense(query)
        if not dense:
            hits = lexical[:k]
            if not hits:
                return Retrieval(query, [], 0.0, Evidence(0.0))
            evidence = Evidence(self.index.confidence(query, hits[0].chunk))
            return Retrieval(query, hits, calibrated_confidence(evidence, False), evidence)
        else:
            chunks = {hit.chunk.chunk_id: hit.chunk for hit in lexical}
            chunks.update((chunk.chunk_id, chunk) for chunk, _ in dense)
            fused = reciprocal_rank_fusion(
                [[hit.chunk.chunk_id for hit in lexical], [chunk.chunk_id for chunk, _ in dense]]
            )
            hits = [
                Hit(chunks[chunk_id], score, rank)
                for rank, (chunk_id, score) in enumerate(fused[:k], start=1)
            ]
        best = hits[0].chunk
        cosine = max(
            (sim for chunk, sim in dense if chunk.article_id == best.article_id), default=0
        )
        agree = bool(lexical) and lexical[0].chunk.article_id == dense[0][0].article_id
        evidence = Evidence(self.index.confidence(query, best), float(cosine), float(agree))
        return Retrieval(query, hits, calibrated_confidence(evidence, True), evidence)

    def _dense(self, query: str) -> list[tuple[Chunk, float]]:
        if self.vectors is None or self.embedder is None:
            return []
        # The question goes to an embedding provider: its e-mails, phones and cards do not.
        vector = self.embedder.embed_query(PiiMask().mask(query))
        if not any(vector):  # nothing to compare (cosine of a zero vector is undefined)
            return []
        return self.vectors.nearest_chunks(vector, self.candidates)


class CachedIndex:
    """A BM25 index over a store's chunks, rebuilt only when the store's version changes.

    One per process (each function instance holds its own); checking costs one read of the
    store's version stamp.
    """

    def __init__(self, source: ChunkSource, build: Callable[[list[Chunk]], BM25Index] = BM25Index):
        self.source = source
        self._build = build
        self._lock = threading.Lock()
        self._version: str | None = None
        self._index: BM25Index | None = None

    def current(self) -> tuple[BM25Index, IndexInfo]:
        """The index for the store's current version, and that version's info."""
        info = self.source.index_info()
        with self._lock:
            if self._index is None or info.version != self._version:
                self._index = self._build(self.source.load_chunks())
                self._version = info.version
                logger.info("knowledge base index built: %d chunks", len(self._index))
            return self._index, info


class KnowledgeBase:
    """What the support agent queries: the store's chunks through BM25 (cached by version),
    fused with the store's vector search when its chunks were embedded by `embedder`."""

    def __init__(self, store: KnowledgeStore, embedder: Embedder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.cache = CachedIndex(store)
        self._warned: str | None = None

    def retriever(self) -> HybridRetriever:
        """A retriever over the current index."""
        index, info = self.cache.current()
        embedder = self.embedder
        if embedder is not None and info.embedding_model != embedder.name:
            # Vectors from another model (or none) cannot be compared with this query vector.
            if self._warned != info.version:
                self._warned = info.version
                logger.warning(
                    "knowledge base embedded with %s, not %s: lexical search only",
                    info.embedding_model,
                    embedder.name,
                )
            embedder = None
        return HybridRetriever(index, self.store, embedder)

    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """The k best chunks for the query, and the confidence."""
        return self.retriever().retrieve(query, k)

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k best chunks for the query."""
        return self.retrieve(query, k).hits
