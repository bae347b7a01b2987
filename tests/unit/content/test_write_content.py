"""Copy from a brief on a help centre in memory: a variant per angle, grounded in the
passages, and a writer that keeps leaving a placeholder is refused, not served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.content.models import ContentBrief
from shared.content.write import CopyRejectedError, write_content
from shared.core.agent_settings import resolve_agent_settings
from shared.kb.ingest import ingest_directory
from shared.kb.memory import InMemoryKnowledgeStore
from shared.kb.retrieval import KnowledgeBase
from shared.llm.offline import OfflineLLM
from shared.llm.types import Completion, CompletionRequest

ARTICLES = Path(__file__).resolve().parents[3] / "kb" / "heldout2" / "articles"  # the tea shop


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    store = InMemoryKnowledgeStore()
    ingest_directory(ARTICLES, store)
    return KnowledgeBase(store)


def test_each_variant_has_its_own_angle_and_stands_on_the_help_centre(kb: KnowledgeBase) -> None:
    brief = ContentBrief(product="the tea club", audience="tea lovers", channel="email", variants=3)

    answer = write_content(brief, kb=kb, llm=OfflineLLM, settings=resolve_agent_settings("content"))

    assert len({v.headline for v in answer.variants}) == 3
    assert answer.variants[1].headline == "Looking for the tea club?"
    assert "tea-club.md" in [s.source for s in answer.sources]
    assert len({s.source for s in answer.sources}) == len(answer.sources)  # each article once
    assert answer.offline and answer.usage.calls == 3 and answer.usage.cost_usd == 0


class Placeholder:
    """A model that writes an unfilled placeholder every time."""

    calls = 0

    def structured(self, request: CompletionRequest, model: Any) -> tuple[Any, Completion]:
        Placeholder.calls += 1
        _, completion = OfflineLLM().structured(request, model)
        return model(headline="Hi [first name]", body="Tea.", call_to_action="Go"), completion


def test_copy_that_fails_the_check_twice_is_refused_with_the_reason(kb: KnowledgeBase) -> None:
    brief = ContentBrief(product="teaware", audience="new customers", channel="sms", variants=1)

    with pytest.raises(CopyRejectedError, match="placeholder") as refused:
        write_content(brief, kb=kb, llm=Placeholder, settings=resolve_agent_settings("content"))

    assert refused.value.http_status == 422 and Placeholder.calls == 2
