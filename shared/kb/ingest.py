"""Reading a directory of articles, cutting them into chunks, and syncing them into a store.

Formats: Markdown (rendered with markdown-it, then read like HTML), HTML (BeautifulSoup) and
plain text. Each file is one article whose title is its first heading: `# ...` in Markdown,
`<h1>` (else `<title>`) in HTML, the first line of a text file; failing those the first
heading of any level, and the file name when there is no heading at all. Scripts, styles,
navigation, footers and forms are not text.

Chunking keeps a section's heading with its first paragraph, packs consecutive paragraphs
(and small sections) into chunks of at most `max_chars`, splits a paragraph that is too long
at sentence and then word boundaries, and starts a chunk that continues the same section
with the last `overlap_chars` of the previous one, so a sentence cut at a boundary is
still found whole in one of the two chunks.

Ingest is incremental: an article whose file bytes, chunking settings and embedding model
are what the store already has is skipped; others are re-chunked and re-embedded; articles
whose file disappeared are deleted with their chunks.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString
from markdown_it import MarkdownIt

from shared.kb.embeddings import Embedder
from shared.kb.models import (
    Article,
    ArticleFormat,
    Block,
    Chunk,
    IngestReport,
    StoredArticle,
    article_id_for,
    chunk_id_for,
)
from shared.kb.ports import KnowledgeStore

logger = logging.getLogger(__name__)

# The knowledge base bundled with the repository (kb/articles at its root).
BUNDLED_ARTICLES = Path(__file__).resolve().parents[2] / "kb" / "articles"
SUFFIX_FORMATS: dict[str, ArticleFormat] = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".txt": "txt",
}
# Bump when the chunking algorithm changes: every article is then re-chunked.
CHUNKER_VERSION = 2

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SKIPPED = {"script", "style", "noscript", "template", "head", "nav", "footer", "svg", "form"}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "header", "html", "li", "main", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "tfoot", "thead", "ul",
}  # fmt: skip
_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_UNDERLINE = re.compile(r"^\s*(?:=+|-+)\s*$")


@dataclass(frozen=True)
class ChunkingOptions:
    """Sizes of chunks, in characters of body text."""

    max_chars: int = 800
    overlap_chars: int = 120

    def __post_init__(self) -> None:
        if self.max_chars < 100 or not 0 <= self.overlap_chars <= self.max_chars // 2:
            raise ValueError("need max_chars >= 100 and 0 <= overlap_chars <= max_chars / 2")

    @property
    def signature(self) -> str:
        """Stored with each article: a different signature means the chunks are stale."""
        return f"v{CHUNKER_VERSION}:{self.max_chars}:{self.overlap_chars}"


# ---------------------------------------------------------------------------------- reading


def load_articles(directory: Path) -> list[Article]:
    """Every Markdown, HTML and text file under `directory` (hidden ones excepted), by name."""
    if not directory.is_dir():
        raise NotADirectoryError(f"not a directory: {directory}")
    articles = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        hidden = any(part.startswith(".") for part in relative.parts)
        if path.is_file() and not hidden and path.suffix.lower() in SUFFIX_FORMATS:
            articles.append(parse_article(relative.as_posix(), path.read_bytes()))
    return articles


def parse_article(source: str, raw: bytes) -> Article:
    """The article in `raw`, a file named `source` (its suffix gives the format)."""
    fmt = SUFFIX_FORMATS.get(PurePosixPath(source).suffix.lower())
    if fmt is None:
        raise ValueError(f"unsupported file type: {source}")
    text = raw.decode("utf-8-sig", errors="replace")
    if fmt == "txt":
        title, blocks = _read_text(text)
    else:
        html = _markdown().render(text) if fmt == "md" else text
        title, blocks = _read_html(html)
    return Article(
        article_id=article_id_for(source),
        source=source,
        title=title or PurePosixPath(source).stem.replace("-", " ").replace("_", " "),
        format=fmt,
        content_hash=hashlib.sha256(raw).hexdigest(),
        blocks=tuple(blocks),
    )


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def _clean(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _read_html(html: str) -> tuple[str | None, list[Block]]:
    # The title is the first <h1>, else the <title>, else the first heading of any level; a
    # heading used as the title leaves the body.
    soup = BeautifulSoup(html, "html.parser")
    blocks = _html_blocks(soup)
    headings = [i for i, block in enumerate(blocks) if block.kind == "heading"]
    first_h1 = next((i for i in headings if blocks[i].level == 1), None)
    head_title = _clean(soup.title.get_text()) if soup.title else ""
    if first_h1 is None and head_title:
        return head_title, blocks
    chosen = first_h1 if first_h1 is not None else (headings[0] if headings else None)
    if chosen is None:
        return None, blocks
    return blocks[chosen].text, blocks[:chosen] + blocks[chosen + 1 :]


def _html_blocks(soup: BeautifulSoup) -> list[Block]:
    blocks: list[Block] = []
    inline: list[str] = []

    def flush() -> None:
        text = _clean("".join(inline))
        inline.clear()
        if text:
            blocks.append(Block(kind="paragraph", text=text))

    def walk(element: Tag) -> None:
        for child in element.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA
                continue
            if isinstance(child, NavigableString):
                inline.append(str(child))
                continue
            if not isinstance(child, Tag) or child.name in _SKIPPED:
                continue
            if child.name in _HEADINGS:
                flush()
                text = _clean(child.get_text(" "))
                if text:
                    blocks.append(Block(kind="heading", text=text, level=int(child.name[1])))
            elif child.name == "tr":
                flush()
                cells = [_clean(cell.get_text(" ")) for cell in child.find_all(["td", "th"])]
                row = " | ".join(cell for cell in cells if cell)
                if row:
                    blocks.append(Block(kind="paragraph", text=row))
            elif child.name == "br":
                inline.append(" ")
            elif child.name in _BLOCKS:
                flush()
                if child.name == "li":
                    inline.append("- ")
                walk(child)
                flush()
            else:
                walk(child)  # inline markup: its text joins the paragraph

    walk(soup)
    flush()
    return blocks


def _read_text(text: str) -> tuple[str | None, list[Block]]:
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None, []
    title = _clean(lines.pop(0).lstrip("#"))
    if lines and _UNDERLINE.match(lines[0]):
        lines.pop(0)
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        joined = _clean(" ".join(paragraph))
        paragraph.clear()
        if joined:
            blocks.append(Block(kind="paragraph", text=joined))

    for line in lines:
        if not line.strip():
            flush()
        elif _LIST_ITEM.match(line):
            flush()
            paragraph.append("- " + _LIST_ITEM.sub("", line, count=1))
        else:
            paragraph.append(line)
    flush()
    return title or None, blocks


# --------------------------------------------------------------------------------- chunking


@dataclass(frozen=True)
class _Unit:
    text: str
    section: str | None
    opens_section: bool  # starts with its section's heading: never preceded by overlap


def chunk_article(article: Article, options: ChunkingOptions | None = None) -> list[Chunk]:
    """Cut the article's body into chunks of at most `options.max_chars` characters."""
    options = options or ChunkingOptions()
    texts: list[tuple[str, str | None]] = []
    current: list[_Unit] = []

    def emit() -> None:
        texts.append(("\n".join(unit.text for unit in current), current[0].section))

    for unit in _units(article.blocks, options):
        joined = sum(len(u.text) + 1 for u in current) + len(unit.text)
        if current and joined > options.max_chars:
            emit()
            current = []
            if not unit.opens_section:  # it continues the section the last chunk ended in
                tail = _tail(texts[-1][0], options.overlap_chars)
                if tail and len(tail) + 1 + len(unit.text) <= options.max_chars:
                    current.append(_Unit(tail, unit.section, False))
        current.append(unit)
    if current:
        emit()
    return [
        Chunk(
            chunk_id=chunk_id_for(article.source, position),
            article_id=article.article_id,
            source=article.source,
            title=article.title,
            heading=heading,
            position=position,
            text=text,
        )
        for position, (text, heading) in enumerate(texts)
    ]


def _units(blocks: Iterable[Block], options: ChunkingOptions) -> list[_Unit]:
    units: list[_Unit] = []
    section: str | None = None
    pending: list[str] = []  # headings waiting for their first paragraph
    for block in blocks:
        if block.kind == "heading":
            pending.append(block.text)
            section = block.text
            continue
        prefix = "\n".join(pending)[: options.max_chars // 4]
        room = options.max_chars - options.overlap_chars - 1
        first_room = room - len(prefix) - 1 if prefix else room
        pieces = _split(block.text, first_room, room)
        for i, piece in enumerate(pieces):
            opens = i == 0 and bool(pending)
            text = f"{prefix}\n{piece}" if opens else piece
            units.append(_Unit(text, section, opens))
        pending = []
    if pending:
        units.append(_Unit("\n".join(pending)[: options.max_chars // 4], section, True))
    return units


def _split(text: str, first_limit: int, limit: int) -> list[str]:
    """Pieces of `text` no longer than the limits, cut between sentences, else words."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        for word in _fit(sentence, limit):
            cap = first_limit if not pieces else limit
            candidate = f"{current} {word}" if current else word
            if len(candidate) <= cap:
                current = candidate
            else:
                if current:
                    pieces.append(current)
                current = word
    if current:
        pieces.append(current)
    return pieces


def _fit(sentence: str, limit: int) -> list[str]:
    # A sentence that fits stays whole; one that does not is cut into words (and a word
    # longer than the limit, such as a pasted URL, into slices).
    if len(sentence) <= limit // 2:
        return [sentence]
    words: list[str] = []
    for word in sentence.split(" "):
        words.extend(word[i : i + limit // 2] for i in range(0, len(word), limit // 2))
    return words


def _tail(text: str, size: int) -> str:
    """The last `size` characters of `text`, starting where a line or a sentence starts if
    one does within them (so a chunk never opens mid-row of a table), else at a word."""
    if size <= 0 or len(text) <= size:
        return ""
    tail = text[-size:]
    starts = [i + 1 for i, c in enumerate(tail[:-1]) if c == "\n"]
    starts += [m.end() for m in re.finditer(r"[.!?]\s+", tail)]
    if starts and min(starts) < len(tail) - 1:
        return tail[min(starts) :].strip()
    space = tail.find(" ")
    return tail[space + 1 :].strip() if space >= 0 else ""


# ---------------------------------------------------------------------------------- syncing


def ingest_directory(
    directory: Path,
    store: KnowledgeStore,
    embedder: Embedder | None = None,
    options: ChunkingOptions | None = None,
) -> IngestReport:
    """Make the store hold exactly the articles of `directory`, rewriting only what changed."""
    return sync_articles(load_articles(directory), store, embedder, options)


APPROVED_DRAFTS_PREFIX = "kb_drafts/"


def sync_articles(
    articles: Sequence[Article],
    store: KnowledgeStore,
    embedder: Embedder | None = None,
    options: ChunkingOptions | None = None,
) -> IngestReport:
    """Store these articles and delete every other one (approved drafts excepted); unchanged
    articles are not rewritten."""
    options = options or ChunkingOptions()
    model = embedder.name if embedder else None
    stored = store.stored_articles()
    report = IngestReport()
    for article in articles:
        previous = stored.get(article.article_id)
        if (
            previous is not None
            and previous.content_hash == article.content_hash
            and previous.chunking == options.signature
            and previous.embedding_model == model
        ):
            report.unchanged.append(article.source)
            continue
        chunks = chunk_article(article, options)
        embeddings = (
            embedder.embed_documents([chunk.search_text for chunk in chunks])
            if embedder and chunks
            else None
        )
        record = StoredArticle(
            article_id=article.article_id,
            source=article.source,
            title=article.title,
            content_hash=article.content_hash,
            chunking=options.signature,
            embedding_model=model,
            chunk_count=len(chunks),
        )
        store.save_article(record, chunks, embeddings)
        (report.updated if previous else report.added).append(article.source)
        report.chunks += len(chunks)
    present = {article.article_id for article in articles}
    for article_id, previous in sorted(stored.items(), key=lambda item: item[1].source):
        # Answers approved on the status page live only in the store: a re-index keeps them.
        if previous.source.startswith(APPROVED_DRAFTS_PREFIX):
            continue
        if article_id not in present:
            store.delete_article(article_id)
            report.removed.append(previous.source)
    logger.info("knowledge base ingest: %s", report.summary())
    return report
