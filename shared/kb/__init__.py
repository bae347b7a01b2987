"""The support agent's knowledge base: ingest articles, retrieve chunks, evaluate retrieval.

    models      Article, Chunk, StoredArticle, IngestReport (stable ids, content hashes)
    ingest      load_articles, chunk_article, ingest_directory / sync_articles (incremental)
    text        bm25s tokenisation with a light English stemmer, shared by BM25 and hashing
    retrieval   BM25Index, reciprocal_rank_fusion, HybridRetriever, KnowledgeBase
    embeddings  Embedder protocol; HashingEmbedder (offline), OpenAI, Vertex AI, local
    ports       KnowledgeStore protocol (Firestore: shared.adapters.firestore_kb)
    memory      InMemoryKnowledgeStore
    evaluation  the labelled evaluation set and evaluate_retrieval (hit@3)
    service     wiring from settings: store, embedder, the nightly `reindex` job
    cli         `controlroom kb ingest DIR` / `kb search QUERY`

Nothing here imports google.cloud except service/cli (lazily) and the adapter.
"""

from shared.kb.embeddings import (
    Embedder,
    HashingEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    VertexEmbedder,
)
from shared.kb.evaluation import EvalMessage, evaluate_retrieval, load_eval_messages
from shared.kb.ingest import (
    BUNDLED_ARTICLES,
    ChunkingOptions,
    chunk_article,
    ingest_directory,
    load_articles,
    parse_article,
    sync_articles,
)
from shared.kb.memory import InMemoryKnowledgeStore
from shared.kb.models import Article, Chunk, IngestReport, StoredArticle
from shared.kb.ports import IndexInfo, KnowledgeStore
from shared.kb.retrieval import (
    BM25Index,
    Hit,
    HybridRetriever,
    KnowledgeBase,
    Retrieval,
    reciprocal_rank_fusion,
)

__all__ = [
    "BUNDLED_ARTICLES",
    "Article",
    "BM25Index",
    "Chunk",
    "ChunkingOptions",
    "Embedder",
    "EvalMessage",
    "HashingEmbedder",
    "Hit",
    "HybridRetriever",
    "InMemoryKnowledgeStore",
    "IndexInfo",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeStore",
    "OpenAIEmbedder",
    "Retrieval",
    "SentenceTransformerEmbedder",
    "StoredArticle",
    "VertexEmbedder",
    "chunk_article",
    "evaluate_retrieval",
    "ingest_directory",
    "load_articles",
    "load_eval_messages",
    "parse_article",
    "reciprocal_rank_fusion",
    "sync_articles",
]
