"""The offline LLM provider: deterministic, free, and marked as offline."""

from __future__ import annotations

import jinja2
import pytest

from shared.llm.offline import OfflineLLM
from shared.llm.types import CompletionRequest


def request(**facts: object) -> CompletionRequest:
    return CompletionRequest(
        system="You are the finance analyst.",
        prompt="Revenue was €14,994.85.",
        facts=facts,
        offline_template="Revenue for {{ month }} was {{ cents | eur }} ({{ growth | pct }}).",
    )


def test_offline_completion_renders_the_template_from_the_facts() -> None:
    llm = OfflineLLM()

    completion = llm.complete(request(month="2026-10", cents=1499485, growth=0.243))

    assert completion.text == "Revenue for 2026-10 was €14,994.85 (+24.3%)."
    assert completion.offline is True
    assert completion.cost_usd == 0.0
    assert (completion.provider, completion.model) == ("offline", "offline-template")
    assert completion.tokens_in > 0
    assert completion.tokens_out > 0


def test_offline_completion_is_deterministic() -> None:
    facts = {"month": "2026-10", "cents": 1499485, "growth": 0.243}

    first = OfflineLLM().complete(request(**facts))
    second = OfflineLLM().complete(request(**facts))

    assert first == second


def test_offline_completion_changes_with_the_facts() -> None:
    llm = OfflineLLM()

    october = llm.complete(request(month="2026-10", cents=1499485, growth=0.243))
    september = llm.complete(request(month="2026-09", cents=1206220, growth=-0.05))

    assert october.text != september.text


def test_tokens_are_counted_even_for_tiny_texts() -> None:
    tiny = CompletionRequest(system="", prompt="", offline_template="ok")

    completion = OfflineLLM().complete(tiny)

    assert (completion.tokens_in, completion.tokens_out) == (1, 1)


def test_offline_completion_with_a_missing_fact_fails() -> None:
    with pytest.raises(jinja2.UndefinedError):
        OfflineLLM().complete(request(month="2026-10", cents=1499485))
