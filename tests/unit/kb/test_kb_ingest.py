"""Reading, chunking and incremental ingest of knowledge-base articles (no emulator).

The `scenario_*` functions are the store contract: each runs against the in-memory store
here and against Firestore in tests/integration/test_kb_firestore.py.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.kb.embeddings import HashingEmbedder
from shared.kb.ingest import (
    BUNDLED_ARTICLES,
    ChunkingOptions,
    chunk_article,
    ingest_directory,
    load_articles,
    parse_article,
)
from shared.kb.memory import InMemoryKnowledgeStore
from shared.kb.models import Article, Block, article_id_for, chunk_id_for
from shared.kb.ports import KnowledgeStore

# ------------------------------------------------------------------------------- titles


def test_markdown_title_is_the_first_h1_and_leaves_the_body() -> None:
    article = parse_article(
        "guide.md", b"Intro line\n\n# Returns policy\n\nSend it back.\n\n## Costs\n\nFree."
    )

    assert article.title == "Returns policy"
    assert article.format == "md"
    assert [b.text for b in article.blocks] == ["Intro line", "Send it back.", "Costs", "Free."]


def test_markdown_without_h1_takes_its_first_heading_and_plain_text() -> None:
    article = parse_article(
        "faq.md", b"## Shipping **fast**\n\nWe ship [worldwide](https://x.example) `today`.\n"
    )

    assert article.title == "Shipping fast"
    assert article.blocks == (Block(kind="paragraph", text="We ship worldwide today."),)


def test_html_title_is_the_h1_and_scripts_navigation_and_doctype_are_not_text() -> None:
    html = b"""<!DOCTYPE html><html><head><title>Page | Shop</title>
    <style>p { color: red }</style><script>var x = 1;</script></head>
    <body><nav>Home > Help</nav><h1>Gift <em>cards</em></h1>
    <p>Valid for <strong>5 years</strong>.</p><!-- hidden -->
    <ul><li>Buy online</li><li>Redeem at checkout</li></ul>
    <table><tr><th>Amount</th><th>Fee</th></tr><tr><td>10</td><td>none</td></tr></table>
    <footer>(c) Shop</footer></body></html>"""

    article = parse_article("gift-cards.html", html)

    assert article.title == "Gift cards"
    assert [b.text for b in article.blocks] == [
        "Valid for 5 years.",
        "- Buy online",
        "- Redeem at checkout",
        "Amount | Fee",
        "10 | none",
    ]


def test_html_without_h1_takes_the_title_element() -> None:
    article = parse_article("a.htm", b"<html><head><title> Warranty </title></head><p>x</p>")

    assert article.title == "Warranty"
    assert article.format == "html"


def test_text_title_is_the_first_line_and_paragraphs_follow() -> None:
    raw = b"\n\nBusiness hours\n==============\nOpen Monday\nto Friday.\n\n- Phone\n- Chat\n"

    article = parse_article("hours.txt", raw)

    assert article.title == "Business hours"
    assert [b.text for b in article.blocks] == ["Open Monday to Friday.", "- Phone", "- Chat"]


def test_a_file_without_any_heading_is_titled_by_its_name() -> None:
    assert parse_article("gift_card-faq.md", b"Just text.").title == "gift card faq"


def test_unsupported_files_are_refused_and_skipped_when_loading(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\ntext")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("B\n\ntext")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".draft.md").write_text("# Draft")

    articles = load_articles(tmp_path)

    assert [a.source for a in articles] == ["a.md", "sub/b.txt"]
    with pytest.raises(ValueError):
        parse_article("image.png", b"")


# ----------------------------------------------------------------------------- chunking


def _article(*blocks: Block, source: str = "doc.md") -> Article:
    return Article(
        article_id=article_id_for(source),
        source=source,
        title="Doc",
        format="md",
        content_hash="h",
        blocks=blocks,
    )


def _paragraph(text: str) -> Block:
    return Block(kind="paragraph", text=text)


def _heading(text: str, level: int = 2) -> Block:
    return Block(kind="heading", text=text, level=level)


def test_a_long_section_is_cut_into_chunks_within_the_limit_that_overlap() -> None:
    sentences = [f"Sentence number {i} tells the customer something useful." for i in range(60)]
    article = _article(_heading("Refunds"), _paragraph(" ".join(sentences)))
    options = ChunkingOptions(max_chars=400, overlap_chars=80)

    chunks = chunk_article(article, options)

    assert len(chunks) > 5
    assert all(len(chunk.text) <= 400 for chunk in chunks)
    assert chunks[0].text.startswith("Refunds\nSentence number 0")
    for previous, current in itertools.pairwise(chunks):
        overlap = current.text.split("\n")[0]
        assert 0 < len(overlap) <= 80
        assert previous.text.endswith(overlap)
    assert {chunk.heading for chunk in chunks} == {"Refunds"}
    assert all(sentence in " ".join(c.text for c in chunks) for sentence in sentences)


def test_small_sections_share_a_chunk_and_a_new_section_starts_without_overlap() -> None:
    visa = "We take Visa. " * 20
    article = _article(
        _heading("Cards"),
        _paragraph(visa.strip()),
        _heading("PayPal"),
        _paragraph("We take PayPal."),
        _heading("Invoices"),
        _paragraph("Invoices are sent by email. " * 8),
    )

    chunks = chunk_article(article, ChunkingOptions(max_chars=400, overlap_chars=100))

    assert [c.text for c in chunks[:1]] == [f"Cards\n{visa.strip()}\nPayPal\nWe take PayPal."]
    assert chunks[1].text.startswith("Invoices\nInvoices are sent")
    assert [c.heading for c in chunks] == ["Cards", "Invoices"]


def test_a_word_longer_than_a_chunk_is_sliced() -> None:
    chunks = chunk_article(_article(_paragraph("https://" + "a" * 2000)))

    assert len(chunks) >= 3
    assert all(len(chunk.text) <= 800 for chunk in chunks)


def test_an_article_without_body_has_no_chunks() -> None:
    assert chunk_article(_article()) == []


def test_ids_are_stable_hashes_of_the_file_name_and_position() -> None:
    raw = b"# Title\n\n" + b"A paragraph of text. " * 100
    first = chunk_article(parse_article("refunds.md", raw))
    again = chunk_article(parse_article("refunds.md", raw))
    renamed = chunk_article(parse_article("refunds-old.md", raw))

    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert [c.chunk_id for c in first] == [chunk_id_for("refunds.md", i) for i in range(len(first))]
    assert first[0].article_id == article_id_for("refunds.md") != renamed[0].article_id
    assert len({c.chunk_id for c in first + renamed}) == 2 * len(first)


def test_the_content_hash_follows_the_bytes() -> None:
    one = parse_article("a.md", b"# A\n\ntext")

    assert one.content_hash == parse_article("b.md", b"# A\n\ntext").content_hash
    assert one.content_hash != parse_article("a.md", b"# A\n\ntext!").content_hash


def test_chunking_options_are_checked_and_signed() -> None:
    assert ChunkingOptions().signature == "v2:800:120"
    with pytest.raises(ValueError):
        ChunkingOptions(max_chars=400, overlap_chars=300)


def test_the_bundled_knowledge_base_has_at_least_15_titled_articles_in_every_format() -> None:
    articles = load_articles(BUNDLED_ARTICLES)

    assert len(articles) >= 15
    assert {a.format for a in articles} == {"md", "html", "txt"}
    for article in articles:
        chunks = chunk_article(article)
        assert article.title and not article.title.startswith("<")
        assert chunks and all(len(c.text) <= 800 for c in chunks)


# --------------------------------------------------- the store contract (also on Firestore)

StoreFactory = Callable[[], KnowledgeStore]


def copy_articles(target: Path) -> Path:
    """A private copy of the bundled articles that a test may change."""
    shutil.copytree(BUNDLED_ARTICLES, target)
    return target


def scenario_ingest_then_reingest_unchanged(store: KnowledgeStore, articles: Path) -> None:
    """A first ingest adds every article; a second finds them all unchanged and writes nothing."""
    first = ingest_directory(articles, store)
    version = store.index_info().version
    second = ingest_directory(articles, store)

    names = sorted(p.name for p in articles.iterdir())
    assert first.added == names and not (first.updated or first.removed)
    assert first.chunks == len(store.load_chunks()) > len(names)
    assert second.unchanged == names and not second.changed and second.chunks == 0
    assert store.index_info().version == version


def scenario_one_changed_file_updates_only_that_article(
    store: KnowledgeStore, articles: Path
) -> None:
    """Editing one file re-chunks that article alone, and drops the chunks it no longer has."""
    ingest_directory(articles, store)
    before = {c.chunk_id: c for c in store.load_chunks()}
    version = store.index_info().version
    (articles / "refunds.md").write_text("# Refunds\n\nRefunds take 5 business days.\n")

    report = ingest_directory(articles, store)

    after = {c.chunk_id: c for c in store.load_chunks()}
    refunds = article_id_for("refunds.md")
    assert report.updated == ["refunds.md"] and not (report.added or report.removed)
    assert len(report.unchanged) == len(list(articles.iterdir())) - 1
    assert [c.text for c in after.values() if c.article_id == refunds] == [
        "Refunds take 5 business days."
    ]
    assert {k: v for k, v in before.items() if v.article_id != refunds} == {
        k: v for k, v in after.items() if v.article_id != refunds
    }
    assert store.index_info().version != version


def scenario_removed_file_deletes_the_article_and_its_chunks(
    store: KnowledgeStore, articles: Path
) -> None:
    """A file that disappeared is removed with all its chunks."""
    ingest_directory(articles, store)
    (articles / "gift-cards.html").unlink()

    report = ingest_directory(articles, store)

    gift_cards = article_id_for("gift-cards.html")
    assert report.removed == ["gift-cards.html"] and not (report.added or report.updated)
    assert gift_cards not in store.stored_articles()
    assert not [c for c in store.load_chunks() if c.article_id == gift_cards]


def scenario_a_new_embedder_reembeds_everything(store: KnowledgeStore, articles: Path) -> None:
    """Chunks embedded by another model (or none) are stale: every article is redone."""
    ingest_directory(articles, store)

    report = ingest_directory(articles, store, HashingEmbedder(64))

    assert len(report.updated) == len(list(articles.iterdir())) and not report.unchanged
    info = store.index_info()
    assert (info.embedding_model, info.dimensions) == ("hashing-bow-64", 64)


def scenario_vector_search_finds_a_chunk_by_its_own_embedding(
    store: KnowledgeStore, articles: Path
) -> None:
    """The nearest chunk to a chunk's own embedding is that chunk (cosine similarity 1)."""
    embedder = HashingEmbedder()
    ingest_directory(articles, store, embedder)
    target = next(c for c in store.load_chunks() if c.source == "double-charges.html")

    nearest = store.nearest_chunks(embedder.embed_query(target.search_text), 3)

    assert len(nearest) == 3
    assert nearest[0][0] == target
    assert nearest[0][1] == pytest.approx(1.0, abs=1e-6)
    assert nearest[0][1] >= nearest[1][1] >= nearest[2][1]


SCENARIOS = [
    scenario_ingest_then_reingest_unchanged,
    scenario_one_changed_file_updates_only_that_article,
    scenario_removed_file_deletes_the_article_and_its_chunks,
    scenario_a_new_embedder_reembeds_everything,
    scenario_vector_search_finds_a_chunk_by_its_own_embedding,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("scenario_"))
def test_in_memory_store(scenario: Callable[[KnowledgeStore, Path], None], tmp_path: Path) -> None:
    scenario(InMemoryKnowledgeStore(), copy_articles(tmp_path / "articles"))


def test_unchanged_articles_cost_no_writes(tmp_path: Path) -> None:
    store = InMemoryKnowledgeStore()
    articles = copy_articles(tmp_path / "articles")
    ingest_directory(articles, store)
    writes = store.writes

    ingest_directory(articles, store)

    assert store.writes == writes


def test_changed_chunking_rechunks_every_article(tmp_path: Path) -> None:
    store = InMemoryKnowledgeStore()
    articles = copy_articles(tmp_path / "articles")
    ingest_directory(articles, store)

    report = ingest_directory(articles, store, options=ChunkingOptions(max_chars=400))

    assert not report.unchanged
    assert all(len(c.text) <= 400 for c in store.load_chunks())


def test_a_reindex_keeps_articles_approved_on_the_status_page(tmp_path: Path) -> None:
    from shared.kb.ingest import ingest_directory, parse_article, sync_articles
    from shared.kb.memory import InMemoryKnowledgeStore

    (tmp_path / "faq.md").write_text("# FAQ\n\nWe ship to Ireland.\n")
    store = InMemoryKnowledgeStore()
    approved = parse_article(
        "kb_drafts/t-1.md", b"# Can I pay by invoice?\n\nYes, for business accounts.\n"
    )
    sync_articles([approved], store)

    report = ingest_directory(tmp_path, store)

    assert report.removed == []
    assert {a.source for a in store.stored_articles().values()} == {"faq.md", "kb_drafts/t-1.md"}


def test_an_overlap_starts_where_a_line_or_a_sentence_starts() -> None:
    from shared.kb.ingest import _tail

    text = "Standard | EU | 3-5 days | 4.95\nExpress | EU | 1-2 days | 12.95"
    assert _tail(text, 40) == "Express | EU | 1-2 days | 12.95"
    assert _tail("One sentence here. Another one follows it", 30) == "Another one follows it"
    assert _tail("no boundary anywhere in this long run of words", 20) == "long run of words"
