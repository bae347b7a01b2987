"""The knowledge base on the Firestore emulator: incremental ingest, find_nearest, the CLI."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.vector import Vector

from shared.adapters.firestore_kb import CHUNKS, FirestoreKnowledgeStore
from shared.cli.kb import add_kb_parser, run_kb
from shared.kb.embeddings import HashingEmbedder
from shared.kb.ingest import BUNDLED_ARTICLES, ingest_directory
from shared.kb.models import article_id_for
from shared.kb.ports import KnowledgeStore
from shared.kb.retrieval import KnowledgeBase
from tests.conftest import Emulators
from tests.unit.kb.test_kb_ingest import SCENARIOS, copy_articles

pytestmark = pytest.mark.integration


@pytest.fixture
def kb_store(clean_emulators: Emulators) -> FirestoreKnowledgeStore:
    """A knowledge-base store on an empty emulator database."""
    return FirestoreKnowledgeStore(clean_emulators.project)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("scenario_"))
def test_firestore_store(
    scenario: Callable[[KnowledgeStore, Path], None],
    kb_store: FirestoreKnowledgeStore,
    tmp_path: Path,
) -> None:
    scenario(kb_store, copy_articles(tmp_path / "articles"))


def test_chunk_documents_carry_a_vector_only_when_embedded(
    kb_store: FirestoreKnowledgeStore, tmp_path: Path
) -> None:
    articles = copy_articles(tmp_path / "articles")
    ingest_directory(articles, kb_store, HashingEmbedder(32))
    refunds = article_id_for("refunds.md")

    def chunk_docs() -> list[dict[str, object]]:
        query = kb_store.client.collection(CHUNKS).where(
            filter=FieldFilter("article_id", "==", refunds)
        )
        return [snap.to_dict() or {} for snap in query.stream()]

    embedded = chunk_docs()
    ingest_directory(articles, kb_store, None)
    plain = chunk_docs()

    assert embedded and all(isinstance(d["embedding"], Vector) for d in embedded)
    assert all(len(d["embedding"]) == 32 for d in embedded)  # type: ignore[arg-type]
    assert plain and all("embedding" not in d for d in plain)
    assert kb_store.index_info().embedding_model is None
    assert kb_store.nearest_chunks([0.1] * 32, 3) == []


def test_find_nearest_refuses_a_vector_of_another_dimension(
    kb_store: FirestoreKnowledgeStore, tmp_path: Path
) -> None:
    ingest_directory(copy_articles(tmp_path / "articles"), kb_store, HashingEmbedder(32))

    with pytest.raises(ValueError, match="dimensions"):
        kb_store.nearest_chunks([0.1] * 64, 3)
    assert kb_store.nearest_chunks([0.0] * 32, 3) == []  # the emulator would give NaN


def test_hybrid_search_over_firestore(kb_store: FirestoreKnowledgeStore) -> None:
    embedder = HashingEmbedder()
    ingest_directory(BUNDLED_ARTICLES, kb_store, embedder)
    kb = KnowledgeBase(kb_store, embedder)

    charged = kb.retrieve("I was charged twice for one order", 3)
    off_topic = kb.retrieve("what is the capital of Australia", 3)

    assert charged.hits[0].chunk.source == "double-charges.html"
    assert charged.confidence > off_topic.confidence
    assert kb.retriever().vectors is kb_store


def test_the_index_cache_follows_the_version_stamp(
    kb_store: FirestoreKnowledgeStore, tmp_path: Path
) -> None:
    articles = copy_articles(tmp_path / "articles")
    ingest_directory(articles, kb_store)
    kb = KnowledgeBase(kb_store)
    first, _ = kb.cache.current()
    ingest_directory(articles, kb_store)  # unchanged: same stamp
    same, _ = kb.cache.current()
    (articles / "warranty.md").write_text("# Warranty\n\nSeven years on zeppelins.\n")
    ingest_directory(articles, kb_store)

    changed, _ = kb.cache.current()

    assert same is first and changed is not first
    assert kb.search("zeppelins", 1)[0].chunk.source == "warranty.md"


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="controlroom")
    add_kb_parser(parser.add_subparsers(dest="command", required=True))
    return run_kb(parser.parse_args(argv))


def test_cli_ingests_then_searches(
    clean_emulators: Emulators, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = copy_articles(tmp_path / "articles")

    assert _cli("kb", "ingest", str(articles), "--embedder", "hashing") == 0
    first = capsys.readouterr().out
    assert _cli("kb", "ingest", str(articles), "--embedder", "hashing") == 0
    second = capsys.readouterr().out
    assert _cli("kb", "search", "reset my password", "--embedder", "hashing") == 0
    search = capsys.readouterr().out
    assert _cli("kb", "ingest", str(tmp_path / "missing"), "--embedder", "none") == 2

    assert "added    refunds.md" in first and "unchanged 0" in first
    unchanged = len(list(articles.iterdir()))
    assert second.strip() == (
        f"added 0, updated 0, unchanged {unchanged}, removed 0, chunks written 0"
    )
    assert "1. " in search and "password-reset.txt" in search
