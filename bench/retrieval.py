"""Knowledge-base retrieval at 10,000 chunks: queries per second, p95 latency and hit@3.

The corpus is generated from the bundled help centre (kb/articles, chunked as the ingest
chunks it): copy 0 is the real chunks, and every further copy is the help centre of another
shop, paraphrased deterministically (`vary_chunks`): the shop's name replaces "Northwind",
sentences are shuffled within each line, about a quarter of the words that have a synonym in
`SYNONYMS` are swapped for it, and one sentence of longer chunks may be dropped. A copy keeps
its article's `source` (file name), so hit@3 still asks "did an answer from the right
article come back", now among ~150 paraphrases of every article; article ids differ per
copy. Copies are added until the corpus holds the requested number of chunks.

Ours: `shared.kb.retrieval` as the support agent uses it, one query at a time:
`HybridRetriever(BM25Index(chunks)).retrieve(query, 3)` (tokenise with the light stemmer,
BM25 over 20 candidates, the 3 best, and the confidence measure; no embedder: the lexical
side of the default hybrid search, whose vector side is Firestore's `find_nearest` in the
cloud and not measured here). Baseline: bm25s used directly on the same chunk texts with its own
defaults (`bm25s.tokenize` with English stopwords and no stemmer, `BM25().retrieve(k=3)`):
the library floor, so the ratio is what our tokenisation, candidate handling and confidence
cost on top, and the hit@3 beside it is what they buy. Queries are the messages of
kb/eval/messages.jsonl, cycled; hit@3 counts the messages that name expected articles.
"""

from __future__ import annotations

import math
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import cycle, islice
from typing import TypeVar

import bm25s
import numpy as np

from bench.measure import BenchReport, CaseResult, percentile, ratio
from shared.kb.evaluation import evaluate_retrieval, load_eval_messages
from shared.kb.ingest import BUNDLED_ARTICLES, chunk_article, load_articles
from shared.kb.models import Chunk, article_id_for
from shared.kb.retrieval import BM25Index, Hit, HybridRetriever

T = TypeVar("T")

SUITE = "retrieval"
FULL_CHUNKS = 10_000
QUICK_CHUNKS = 2_000
FULL_QUERIES = 1_100
QUICK_QUERIES = 220
SEED = 20261116
SWAP_PROBABILITY = 0.25
DROP_PROBABILITY = 0.3
BRAND = "Northwind"
_SHOP_PREFIXES = ("Blue", "Oak", "North", "Silver", "Red", "Pine", "Stone", "Sun", "Iron", "Elm")
_SHOP_SUFFIXES = ("field", "gate", "wood", "brook", "haven", "ridge", "mark", "well", "ford")
# Words of the help centre and a synonym a customer or another shop's writer might use.
SYNONYMS: dict[str, str] = {
    "order": "purchase",
    "orders": "purchases",
    "refund": "reimbursement",
    "refunds": "reimbursements",
    "delivery": "shipment",
    "deliveries": "shipments",
    "account": "profile",
    "email": "e-mail",
    "address": "location",
    "cancel": "call off",
    "item": "product",
    "items": "products",
    "return": "send back",
    "returns": "send-backs",
    "charge": "fee",
    "charged": "billed",
    "payment": "transaction",
    "card": "bank card",
    "days": "working days",
    "contact": "reach",
    "help": "assist",
    "team": "staff",
    "price": "cost",
    "subscription": "membership",
    "invoice": "bill",
    "password": "passcode",
    "track": "follow",
    "damaged": "broken",
    "customer": "client",
    "support": "service",
    "change": "modify",
    "free": "complimentary",
    "within": "inside",
    "receive": "get",
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z]+")


def shop_name(copy: int) -> str:
    """The made-up shop whose help centre copy number `copy` is (copy 0 is Northwind)."""
    if copy == 0:
        return BRAND
    prefix = _SHOP_PREFIXES[copy % len(_SHOP_PREFIXES)]
    suffix = _SHOP_SUFFIXES[(copy // len(_SHOP_PREFIXES)) % len(_SHOP_SUFFIXES)]
    return f"{prefix}{suffix} {copy}"


def paraphrase(text: str, rng: random.Random, shop: str) -> str:
    """The text rewritten for another shop: names, sentence order, some words, maybe a cut."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        synonym = SYNONYMS.get(word.lower())
        if synonym is None or rng.random() >= SWAP_PROBABILITY:
            return word
        return synonym.capitalize() if word[0].isupper() else synonym

    lines = []
    for line in text.replace(BRAND, shop).split("\n"):
        sentences = _SENTENCE.split(line)
        rng.shuffle(sentences)
        if len(sentences) >= 3 and rng.random() < DROP_PROBABILITY:
            sentences.pop(rng.randrange(len(sentences)))
        lines.append(_WORD.sub(swap, " ".join(sentences)))
    return "\n".join(lines)


def vary_chunks(chunks: Sequence[Chunk], total: int, seed: int = SEED) -> list[Chunk]:
    """`total` chunks: the originals, then paraphrased copies of them for other shops."""
    if not chunks:
        raise ValueError("need at least one chunk to vary")
    rng = random.Random(seed)
    varied: list[Chunk] = []
    for copy in range(math.ceil(total / len(chunks))):
        shop = shop_name(copy)
        for chunk in chunks:
            if copy == 0:
                varied.append(chunk)
                continue
            article_id = article_id_for(f"copy-{copy:04d}/{chunk.source}")
            varied.append(
                chunk.model_copy(
                    update={
                        "chunk_id": f"{article_id}-{chunk.position:04d}",
                        "article_id": article_id,
                        "title": chunk.title.replace(BRAND, shop),
                        "text": paraphrase(chunk.text, rng, shop),
                    }
                )
            )
    return varied[:total]


class RawBm25:
    """The baseline: bm25s on the chunks' indexed text with the library's own defaults."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = list(chunks)
        self.retriever = bm25s.BM25()
        corpus = bm25s.tokenize(
            [chunk.search_text for chunk in self.chunks], stopwords="en", show_progress=False
        )
        self.retriever.index(corpus, show_progress=False)

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k best chunks, as bm25s ranks them."""
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        documents, scores = self.retriever.retrieve(
            tokens, k=min(k, len(self.chunks)), show_progress=False, n_threads=0
        )
        return [
            Hit(self.chunks[int(index)], float(score), rank)
            for rank, (index, score) in enumerate(
                zip(documents[0], scores[0], strict=True), start=1
            )
            if score > 0
        ]


def _latencies(search: Callable[[str], object], queries: Sequence[str]) -> list[float]:
    timings = []
    for query in queries:
        started = time.perf_counter()
        search(query)
        timings.append(time.perf_counter() - started)
    return timings


def _time(build: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = build()
    return value, time.perf_counter() - started


def run_suite(*, quick: bool, repeats: int) -> BenchReport:
    """Build both indexes over the generated corpus, then query, time and score them."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    total = QUICK_CHUNKS if quick else FULL_CHUNKS
    base = [
        chunk for article in load_articles(BUNDLED_ARTICLES) for chunk in chunk_article(article)
    ]
    chunks, generation_s = _time(lambda: vary_chunks(base, total))
    messages = load_eval_messages()
    queries = list(
        islice(cycle(m.message for m in messages), QUICK_QUERIES if quick else FULL_QUERIES)
    )

    ours_builds, raw_builds = [], []
    for _ in range(repeats):
        index, seconds = _time(lambda: BM25Index(chunks))
        ours_builds.append(seconds)
        raw, seconds = _time(lambda: RawBm25(chunks))
        raw_builds.append(seconds)
    retriever = HybridRetriever(index)

    ours_runs: list[list[float]] = []
    raw_runs: list[list[float]] = []
    for _ in range(repeats):
        ours_runs.append(_latencies(lambda q: retriever.retrieve(q, 3), queries))
        raw_runs.append(_latencies(lambda q: raw.search(q, 3), queries))
    ours_qps = [len(run) / sum(run) for run in ours_runs]
    raw_qps = [len(run) / sum(run) for run in raw_runs]
    ours_all = [s for run in ours_runs for s in run]
    raw_all = [s for run in raw_runs for s in run]
    ours_p95 = percentile(ours_all, 95) * 1000
    raw_p95 = percentile(raw_all, 95) * 1000

    ours_hit = evaluate_retrieval(retriever, messages)
    raw_hit = evaluate_retrieval(raw, messages)
    bundled_hit = evaluate_retrieval(BM25Index(base), messages)
    corpus = f"{len(chunks):,} chunks ({len(base)} real + paraphrased copies)"
    common = {"chunks": len(chunks), "queries": len(queries), "base_chunks": len(base)}

    def case(name: str, figure: str, ours: float, theirs: float, **fields: object) -> CaseResult:
        share = ratio(ours, theirs)
        return CaseResult.model_validate(
            {
                "suite": SUITE,
                "case": name,
                "baseline": "bm25s raw",
                "figure": figure,
                "ours_value": round(ours, 4),
                "baseline_value": round(theirs, 4),
                "ratio": None if share is None else round(share, 3),
                "agreement": "ours only",
                "agreement_ok": True,
                "details": common,
                **fields,
            }
        )

    cases = (
        case(
            "retrieve qps",
            "queries/s",
            statistics.median(ours_qps),
            statistics.median(raw_qps),
            higher_is_better=True,
            ours_runs=tuple(round(q, 1) for q in ours_qps),
            baseline_runs=tuple(round(q, 1) for q in raw_qps),
            notes=f"{corpus}; {len(queries):,} eval messages cycled, one at a time, k=3",
        ),
        case(
            "retrieve p95",
            "p95 ms",
            ours_p95,
            raw_p95,
            notes=(
                f"p50 ours {percentile(ours_all, 50) * 1000:.2f} ms, "
                f"bm25s {percentile(raw_all, 50) * 1000:.2f} ms; ours includes the confidence"
            ),
        ),
        case(
            "hit@3",
            "hit@3",
            ours_hit["hit_at_3"],
            raw_hit["hit_at_3"],
            higher_is_better=True,
            notes=(
                f"{ours_hit['n']} answerable eval messages on {len(chunks):,} chunks; ours on "
                f"the {len(base)} real chunks alone: {bundled_hit['hit_at_3']:.3f}"
            ),
            details={**common, "bundled_hit_at_3": bundled_hit["hit_at_3"]},
        ),
        case(
            "index build",
            "s",
            statistics.median(ours_builds),
            statistics.median(raw_builds),
            ours_runs=tuple(round(s, 3) for s in ours_builds),
            baseline_runs=tuple(round(s, 3) for s in raw_builds),
            notes=f"{corpus}; ours also computes IDF and per-article terms for the confidence",
        ),
    )
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={
            **common,
            "seed": SEED,
            "repeats": repeats,
            "generation_seconds": round(generation_s, 3),
        },
        environment={"bm25s": bm25s.__version__, "numpy": np.__version__},
        cases=cases,
    )
