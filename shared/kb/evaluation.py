"""The labelled evaluation set and the retrieval-only evaluator.

kb/eval/messages.jsonl holds one customer message per line, with what a good support agent
does with it: {"id", "message", "intent", "urgent", "escalate", "expected_articles",
"language", "tags"}. `expected_articles` names the kb/articles files that answer the message
(empty when the knowledge base cannot answer it); `tags` marks the hard cases
("injection", "abusive", "unanswerable", "off_topic", "multi_intent", ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict

from pydantic import BaseModel, Field

from shared.kb.retrieval import Hit

BUNDLED_EVAL_MESSAGES = Path(__file__).resolve().parents[2] / "kb" / "eval" / "messages.jsonl"
Intent = Literal["support", "sales", "billing", "general"]


class EvalMessage(BaseModel):
    """One labelled message of the evaluation set."""

    id: str
    message: str
    intent: Intent
    urgent: bool
    escalate: bool
    expected_articles: list[str] = Field(default_factory=list)
    language: str = "en"
    tags: list[str] = Field(default_factory=list)


class RetrievalScore(TypedDict):
    """What evaluate_retrieval measures."""

    hit_at_3: float
    n: int


class Searcher(Protocol):
    """Anything that ranks chunks for a query (BM25Index, HybridRetriever, KnowledgeBase)."""

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The k best chunks for the query."""
        ...


def load_eval_messages(path: Path = BUNDLED_EVAL_MESSAGES) -> list[EvalMessage]:
    """The messages of a JSON Lines evaluation set (blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [EvalMessage.model_validate_json(line) for line in lines if line.strip()]


def article_hit(index: Searcher, message: EvalMessage, k: int = 3) -> bool:
    """True when one of the top k chunks comes from an expected article."""
    sources = {hit.chunk.source for hit in index.search(message.message, k)}
    return bool(sources & set(message.expected_articles))


def evaluate_retrieval(
    index: Searcher, messages: Iterable[EvalMessage | Mapping[str, Any]]
) -> RetrievalScore:
    """hit@3 over the messages the knowledge base can answer: the share of them for which a
    chunk of an expected article is among the 3 chunks retrieved. Messages without expected
    articles are not counted; `n` is how many were."""
    answerable = [
        m if isinstance(m, EvalMessage) else EvalMessage.model_validate(m) for m in messages
    ]
    answerable = [m for m in answerable if m.expected_articles]
    hits = sum(article_hit(index, message) for message in answerable)
    return {"hit_at_3": hits / len(answerable) if answerable else 0.0, "n": len(answerable)}
