"""Wiring of the knowledge base from settings: the Firestore store, the configured embedder,
the nightly re-index job and the retriever the support agent uses.

Which embedder: "auto" (the default) picks OpenAI embeddings when an OpenAI key is set
(CONTROLROOM_LLM_OPENAI_API_KEY), else Vertex AI embeddings when a Vertex location is set
(CONTROLROOM_LLM_VERTEX_LOCATION), else WordLlama, the semantic model that ships inside
its package (no key, no download). "none" is BM25 alone. Ingest and search must use the
same embedder; when they do not, search falls back to BM25 alone (see KnowledgeBase).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from shared.kb.embeddings import (
    Embedder,
    HashingEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    VertexEmbedder,
    WordLlamaEmbedder,
)
from shared.kb.ingest import BUNDLED_ARTICLES, ChunkingOptions, ingest_directory
from shared.kb.models import IngestReport
from shared.kb.retrieval import KnowledgeBase

if TYPE_CHECKING:
    from shared.adapters.firestore_kb import FirestoreKnowledgeStore
    from shared.wiring.settings import Settings

logger = logging.getLogger(__name__)

EmbedderKind = Literal["auto", "none", "wordllama", "hashing", "openai", "vertex", "local"]
EMBEDDER_KINDS: tuple[str, ...] = get_args(EmbedderKind)


def build_embedder(
    settings: Settings,
    kind: EmbedderKind = "auto",
    model: str | None = None,
    dimensions: int | None = None,
) -> Embedder | None:
    """The embedder `kind` names (None for "none"); "auto" takes the configured provider's,
    else WordLlama."""
    if kind == "auto":
        if settings.llm_openai_api_key is not None:
            kind = "openai"
        elif settings.llm_vertex_location:
            kind = "vertex"
        else:
            kind = "wordllama"
    if kind == "none":
        return None
    if kind == "wordllama":
        return WordLlamaEmbedder(dimensions or 256)
    if kind == "hashing":
        return HashingEmbedder(dimensions or 256)
    if kind == "openai":
        from shared.llm.openai_provider import openai_client

        key = settings.llm_openai_api_key
        openai = openai_client(
            key.get_secret_value() if key else None,
            settings.llm_openai_base_url,
            settings.llm_timeout_s,
        )
        return OpenAIEmbedder(openai, model or "text-embedding-3-small", dimensions)
    if kind == "vertex":
        from shared.llm.vertex_provider import vertex_client

        if not settings.llm_vertex_location:
            raise ValueError("Vertex AI embeddings need CONTROLROOM_LLM_VERTEX_LOCATION")
        genai = vertex_client(
            settings.llm_vertex_project or settings.project_id,
            settings.llm_vertex_location,
            settings.llm_vertex_base_url,
        )
        return VertexEmbedder(genai, model or "text-embedding-005", dimensions or 768)
    if kind == "local":
        return SentenceTransformerEmbedder(model or "all-MiniLM-L6-v2")
    raise ValueError(f"unknown embedder {kind!r}; choose one of {', '.join(EMBEDDER_KINDS)}")


def knowledge_store(settings: Settings) -> FirestoreKnowledgeStore:
    """The Firestore store of the settings' project (the emulator when FIRESTORE_EMULATOR_HOST
    is set, as the official client does)."""
    from shared.adapters.firestore_kb import FirestoreKnowledgeStore

    return FirestoreKnowledgeStore(settings.project_id)


def reindex(
    settings: Settings,
    directory: Path = BUNDLED_ARTICLES,
    embedder_kind: EmbedderKind = "auto",
    options: ChunkingOptions | None = None,
) -> IngestReport:
    """The nightly job: sync `directory` into Firestore, rewriting only changed articles.

    Safe to run again after a failure: finished articles are skipped as unchanged. Embedding
    errors are LlmTransientError (retry the job) or LlmRequestError (fix the configuration).
    """
    embedder = build_embedder(settings, embedder_kind)
    report = ingest_directory(directory, knowledge_store(settings), embedder, options)
    logger.info("knowledge base re-indexed from %s: %s", directory, report.summary())
    return report


def knowledge_base(settings: Settings, embedder_kind: EmbedderKind = "auto") -> KnowledgeBase:
    """The retriever of the support agent (hold one per process: it caches the BM25 index)."""
    return KnowledgeBase(knowledge_store(settings), build_embedder(settings, embedder_kind))
