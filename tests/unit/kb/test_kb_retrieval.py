"""BM25 retrieval, confidence, rank fusion, and hit@3 on the bundled evaluation set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from shared.kb.confidence import Evidence, calibrated_confidence
from shared.kb.embeddings import HashingEmbedder
from shared.kb.evaluation import EvalMessage, evaluate_retrieval, load_eval_messages
from shared.kb.ingest import BUNDLED_ARTICLES, chunk_article, ingest_directory, load_articles
from shared.kb.memory import InMemoryKnowledgeStore
from shared.kb.models import Chunk
from shared.kb.ports import IndexInfo
from shared.kb.retrieval import (
    BM25Index,
    CachedIndex,
    HybridRetriever,
    KnowledgeBase,
    reciprocal_rank_fusion,
)
from shared.kb.text import light_stem, tokenize, tokenize_one


@pytest.fixture(scope="module")
def index() -> BM25Index:
    """BM25 over the bundled articles."""
    return BM25Index([c for a in load_articles(BUNDLED_ARTICLES) for c in chunk_article(a)])


@pytest.fixture(scope="module")
def messages() -> list[EvalMessage]:
    """The bundled evaluation set."""
    return load_eval_messages()


@pytest.mark.parametrize(
    ("query", "article"),
    [
        ("I was charged twice for the same order", "double-charges.html"),
        ("how do I reset my password", "password-reset.txt"),
        ("how do I return something I don't want", "returns-policy.md"),
        ("GDPR request for a copy of my personal data", "privacy-gdpr.html"),
        ("what does Northwind Plus cost per month", "plans-and-pricing.md"),
        ("my kettle broke, is it under warranty", "warranty.md"),
    ],
)
def test_bm25_ranks_the_obvious_article_first(index: BM25Index, query: str, article: str) -> None:
    hits = index.search(query, 3)

    assert hits[0].chunk.source == article
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score > 0


def test_a_query_without_known_words_finds_nothing(index: BM25Index) -> None:
    assert index.search("zzyzx qwertyuiop", 3) == []
    assert index.search("", 3) == []
    assert index.confidence("zzyzx qwertyuiop") == 0.0


def test_an_empty_index_answers_nothing() -> None:
    empty = BM25Index([])

    assert empty.search("refund", 3) == []
    assert empty.confidence("refund") == 0.0


@pytest.mark.parametrize(
    ("on_topic", "off_topic"),
    [
        ("I was charged twice for my order", "can you recommend a good lawyer"),
        ("how long do refunds take", "what is the capital of Australia"),
        ("do you ship to Germany", "write me a poem about the sea"),
    ],
)
def test_confidence_is_higher_on_topic_than_off_topic(
    index: BM25Index, on_topic: str, off_topic: str
) -> None:
    high, low = index.confidence(on_topic), index.confidence(off_topic)

    assert 0.0 <= low < high <= 1.0


def test_confidence_separates_answerable_from_unanswerable_messages(
    index: BM25Index, messages: list[EvalMessage]
) -> None:
    answerable = [index.confidence(m.message) for m in messages if m.expected_articles]
    unanswerable = [index.confidence(m.message) for m in messages if not m.expected_articles]
    pairs = [(a, u) for a in answerable for u in unanswerable]

    auc = sum(1.0 if a > u else 0.5 if a == u else 0.0 for a, u in pairs) / len(pairs)

    # Measured: 0.88 (0.91 on English messages only); "recommend a good lawyer" still
    # scores 0.40 because an article "recommends" two-step verification.
    assert auc >= 0.85


def test_light_stem_folds_inflections_alike() -> None:
    groups = [
        ("refund", "refunds", "refunded", "refunding"),
        ("charge", "charges", "charged", "charging"),
        ("ship", "shipped", "shipping", "ships"),
        ("cancel", "cancelled", "cancelling", "cancels"),
        ("delivery", "deliveries"),
        ("rug", "rugs"),
    ]
    for group in groups:
        assert len({light_stem(word) for word in group}) == 1, group
    assert light_stem("bill") == light_stem("billing") != light_stem("bil")
    assert tokenize(["The refunds, and the charges!"]) == [["refund", "charg"]]


def test_rrf_fuses_hand_made_rankings() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)

    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[1][1] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2][1] == pytest.approx(1 / 62)


def test_rrf_breaks_ties_by_first_appearance_and_ignores_repeats() -> None:
    fused = reciprocal_rank_fusion([["x", "y", "x"], ["y", "x"]])

    assert [item for item, _ in fused] == ["x", "y"]
    assert fused[0][1] == fused[1][1]


class FixedVectors:
    """A vector searcher that returns a fixed ranking, whatever the query."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = list(chunks)
        self.calls = 0

    def nearest_chunks(self, vector: Sequence[float], k: int) -> list[tuple[Chunk, float]]:
        self.calls += 1
        return [(chunk, 0.9 - i / 10) for i, chunk in enumerate(self.chunks[:k])]


def test_hybrid_search_fuses_bm25_with_vector_ranks(index: BM25Index) -> None:
    lexical = index.search("charged twice", 20)
    vector_only = next(c for c in index.chunks if c.source == "gift-cards.html")
    vectors = FixedVectors([vector_only, lexical[1].chunk])

    retrieval = HybridRetriever(index, vectors, HashingEmbedder()).retrieve("charged twice", 3)

    # lexical[1] is 2nd in BM25 and 2nd in vectors; gift cards only 1st in vectors.
    assert [h.chunk for h in retrieval.hits] == [lexical[1].chunk, lexical[0].chunk, vector_only]
    assert [h.rank for h in retrieval.hits] == [1, 2, 3]
    assert retrieval.hits[0].score == pytest.approx(2 / 62)
    # The confidence is the calibrated chance from what retrieval saw about its best hit.
    assert retrieval.evidence == Evidence(
        coverage=index.confidence("charged twice", lexical[1].chunk), cosine=0.8, agree=0.0
    )
    assert retrieval.confidence == calibrated_confidence(retrieval.evidence, hybrid=True)


def test_without_an_embedder_hybrid_search_is_bm25(index: BM25Index) -> None:
    vectors = FixedVectors(index.chunks)

    hits = HybridRetriever(index, vectors, None).search("charged twice", 3)

    assert hits == index.search("charged twice", 3)
    assert vectors.calls == 0


class CountingStore(InMemoryKnowledgeStore):
    """Counts how often the chunks are loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load_chunks(self) -> list[Chunk]:
        self.loads += 1
        return super().load_chunks()


def test_the_index_is_rebuilt_only_when_the_store_version_changes() -> None:
    store = CountingStore()
    ingest_directory(BUNDLED_ARTICLES, store)
    cache = CachedIndex(store)

    first, info = cache.current()
    second, _ = cache.current()
    store.delete_article(first.chunks[0].article_id)
    third, _ = cache.current()

    assert first is second and third is not first
    assert store.loads == 2
    assert info.version == IndexInfo(info.version).version != "empty"
    assert len(third) < len(first)


def test_knowledge_base_uses_vectors_only_from_the_same_embedder() -> None:
    store = InMemoryKnowledgeStore()
    ingest_directory(BUNDLED_ARTICLES, store, HashingEmbedder(128))

    same = KnowledgeBase(store, HashingEmbedder(128)).retriever()
    other = KnowledgeBase(store, HashingEmbedder(64)).retriever()

    assert same.embedder is not None and same.vectors is store
    assert other.embedder is None
    assert other.search("refund", 3) == other.index.search("refund", 3)


def test_hit_at_3_on_the_bundled_evaluation_set(
    index: BM25Index, messages: list[EvalMessage]
) -> None:
    result = evaluate_retrieval(index, messages)
    english = evaluate_retrieval(index, [m for m in messages if m.language == "en"])

    # Measured: 0.867 over 98 answerable messages (0.904 over the 94 English ones); the
    # misses are mostly other languages and messages whose words the articles do not use.
    assert result["n"] == 98
    assert result["hit_at_3"] >= 0.8, result
    assert english["hit_at_3"] >= 0.85, english


def test_hybrid_retrieval_with_the_offline_embedder_still_passes(
    messages: list[EvalMessage],
) -> None:
    store = InMemoryKnowledgeStore()
    embedder = HashingEmbedder()
    ingest_directory(BUNDLED_ARTICLES, store, embedder)

    result = evaluate_retrieval(KnowledgeBase(store, embedder), messages)

    # Measured: 0.796. The hashing embedder is lexical and has no IDF, so fusing it with BM25
    # adds noise: it exercises the vector path, it does not improve on BM25.
    assert result["hit_at_3"] >= 0.75, result


def test_evaluation_counts_only_answerable_messages(index: BM25Index) -> None:
    raw = [
        {"id": "1", "message": "charged twice", "intent": "billing", "urgent": False,
         "escalate": False, "expected_articles": ["double-charges.html"]},
        {"id": "2", "message": "charged twice", "intent": "billing", "urgent": False,
         "escalate": False, "expected_articles": ["warranty.md"]},
        {"id": "3", "message": "weather", "intent": "general", "urgent": False,
         "escalate": False, "expected_articles": []},
    ]  # fmt: skip

    assert evaluate_retrieval(index, raw) == {"hit_at_3": 0.5, "n": 2}
    assert evaluate_retrieval(index, []) == {"hit_at_3": 0.0, "n": 0}


def test_the_evaluation_set_covers_what_the_support_agent_meets(
    messages: list[EvalMessage],
) -> None:
    articles = {path.name for path in BUNDLED_ARTICLES.iterdir()}
    tags = Counter(tag for m in messages for tag in m.tags)

    assert len(messages) >= 60
    assert len({m.id for m in messages}) == len(messages)
    assert {m.intent for m in messages} == {"support", "sales", "billing", "general"}
    assert all(set(m.expected_articles) <= articles for m in messages)
    assert sum(m.urgent for m in messages) >= 5
    assert sum(m.escalate for m in messages) >= 10
    assert tags["injection"] >= 5 and tags["abusive"] >= 3 and tags["unanswerable"] >= 8
    assert all(not m.expected_articles for m in messages if "unanswerable" in m.tags)
    assert {m.language for m in messages} > {"en"}


def test_a_query_is_tokenised_exactly_as_bm25s_tokenises_the_corpus() -> None:
    texts = [m.message for m in load_eval_messages()] + [
        "Ünïcödé café's 2-day DELIVERY, charged twice!!",
        "the and of",  # stopwords only
        "",
    ]

    assert [tokenize_one(text) for text in texts] == [
        tokens if any(tokens) else [] for tokens in tokenize(texts)
    ]
