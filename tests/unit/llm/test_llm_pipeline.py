"""Retries, fallbacks, masking, caching and cost around a provider, with in-process fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from shared.core.errors import PermanentError, RetryableError
from shared.llm.cache import InMemoryLlmCache
from shared.llm.errors import (
    LlmOutputError,
    LlmRequestError,
    LlmTransientError,
    LlmUnavailableError,
)
from shared.llm.offline import OfflineLLM
from shared.llm.pipeline import FallbackLLM, ProviderLLM, RetryPolicy, parse_json_answer
from shared.llm.pricing import ModelPrice
from shared.llm.types import CompletionRequest
from tests.helpers.fakes.scripted_provider import ScriptedProvider, reply

MODELS = {"smart": "big-model", "fast": "small-model", "finance.smart": "finance-model"}
PRICES = {
    "big-model": ModelPrice(input_per_mtok=2.5, output_per_mtok=10.0),
    "small-model": ModelPrice(input_per_mtok=0.15, output_per_mtok=0.6),
}


class TicketLabel(BaseModel):
    category: str
    urgent: bool


class Sleeps:
    """Stands in for time.sleep and records the waits asked for."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def make_llm(
    chat: ScriptedProvider,
    sleeps: Sleeps | None = None,
    *,
    cache: InMemoryLlmCache | None = None,
    clock: Clock | None = None,
    max_attempts: int = 3,
    mask_pii: bool = True,
) -> ProviderLLM:
    return ProviderLLM(
        chat,
        MODELS,
        prices=PRICES,
        timeout_s=5.0,
        retry=RetryPolicy(max_attempts=max_attempts, initial_wait_s=0.5, max_wait_s=4.0),
        mask_pii=mask_pii,
        cache=cache,
        cache_ttl_s=3600 if cache is not None else 0,
        sleep=sleeps or Sleeps(),
        clock=clock or Clock(),
    )


def request(prompt: str = "Summarise October.", **kwargs: object) -> CompletionRequest:
    return CompletionRequest(
        system="You are the finance analyst.",
        prompt=prompt,
        facts={"category": "billing", "urgent": True},
        offline_template="Offline: {{ category }}.",
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_tier_picks_the_model_and_the_price_table_the_cost() -> None:
    chat = ScriptedProvider("vendor", reply("Fine.", tokens_in=1000, tokens_out=200))

    completion = make_llm(chat).complete(request(tier="fast"))

    assert chat.calls[0].model == "small-model"
    assert completion.model == "small-model"
    assert (completion.tokens_in, completion.tokens_out) == (1000, 200)
    assert completion.cost_usd == pytest.approx((1000 * 0.15 + 200 * 0.6) / 1_000_000)
    assert (completion.provider, completion.cached, completion.offline) == (
        "vendor",
        False,
        False,
    )


def test_an_agent_override_wins_over_the_tier_and_unpriced_models_cost_nothing() -> None:
    chat = ScriptedProvider("vendor", reply("Fine."))

    completion = make_llm(chat).complete(request(tier="smart", agent="finance"))

    assert completion.model == "finance-model"
    assert completion.cost_usd == 0.0


def test_a_model_map_without_a_tier_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="fast"):
        ProviderLLM(ScriptedProvider("vendor"), {"smart": "m"}, prices={}, timeout_s=1)


def test_a_transient_error_is_retried_after_the_servers_hint() -> None:
    sleeps = Sleeps()
    chat = ScriptedProvider("vendor", LlmTransientError("429", retry_after_s=1.5), reply("Done."))

    completion = make_llm(chat, sleeps).complete(request())

    assert completion.text == "Done."
    assert sleeps.waits == [1.5]
    assert len(chat.calls) == 2


def test_without_a_hint_the_wait_backs_off_within_the_cap() -> None:
    sleeps = Sleeps()
    chat = ScriptedProvider("vendor", LlmTransientError("500"), LlmTransientError("503"))

    make_llm(chat, sleeps).complete(request())

    assert len(sleeps.waits) == 2
    assert all(0 < wait <= 4.0 for wait in sleeps.waits)


def test_a_hint_longer_than_the_cap_gives_up_at_once() -> None:
    sleeps = Sleeps()
    chat = ScriptedProvider("vendor", LlmTransientError("429", retry_after_s=60))

    with pytest.raises(LlmTransientError):
        make_llm(chat, sleeps).complete(request())

    assert sleeps.waits == []
    assert len(chat.calls) == 1


def test_retries_stop_after_the_last_attempt() -> None:
    chat = ScriptedProvider("vendor", *[LlmTransientError("500")] * 5)

    with pytest.raises(LlmTransientError):
        make_llm(chat, max_attempts=3).complete(request())

    assert len(chat.calls) == 3


def test_a_refused_request_is_not_retried() -> None:
    chat = ScriptedProvider("vendor", LlmRequestError("401 bad key"))

    with pytest.raises(LlmRequestError):
        make_llm(chat).complete(request())

    assert len(chat.calls) == 1


def test_structured_output_is_parsed_into_the_schema() -> None:
    chat = ScriptedProvider("vendor", reply('{"category": "billing", "urgent": false}'))

    label, completion = make_llm(chat).structured(request(tier="fast"), TicketLabel)

    assert label == TicketLabel(category="billing", urgent=False)
    assert chat.calls[0].schema is TicketLabel
    assert completion.text == '{"category": "billing", "urgent": false}'


def test_malformed_json_is_asked_again_once_and_both_calls_are_paid_for() -> None:
    chat = ScriptedProvider(
        "vendor",
        reply('{"category": "billing", "urg', tokens_in=100, tokens_out=10),
        reply('{"category": "billing", "urgent": true}', tokens_in=100, tokens_out=12),
    )

    label, completion = make_llm(chat).structured(request(tier="fast"), TicketLabel)

    assert label.urgent is True
    assert (completion.tokens_in, completion.tokens_out) == (200, 22)


def test_an_answer_that_stays_malformed_is_a_clear_permanent_error() -> None:
    chat = ScriptedProvider("vendor", reply('{"category": 3}'), reply("not json at all"))

    with pytest.raises(LlmOutputError, match="not a valid TicketLabel") as caught:
        make_llm(chat).structured(request(tier="fast"), TicketLabel)

    assert isinstance(caught.value, PermanentError)
    assert caught.value.tokens_in == 200
    assert caught.value.cost_usd > 0


def test_an_empty_answer_is_unusable() -> None:
    chat = ScriptedProvider("vendor", reply(None), reply("  "))

    with pytest.raises(LlmOutputError, match="gave no answer"):
        make_llm(chat).complete(request())


def test_a_json_answer_in_a_markdown_fence_is_accepted() -> None:
    label = parse_json_answer(TicketLabel, '```json\n{"category": "x", "urgent": true}\n```')

    assert label == TicketLabel(category="x", urgent=True)


def test_pii_is_masked_for_the_provider_and_restored_in_the_answer() -> None:
    chat = ScriptedProvider("vendor")  # echoes the prompt it was sent

    completion = make_llm(chat).complete(
        request("Draft a reply to ana@example.com (+49 30 12345678).")
    )

    assert chat.calls[0].prompt == "Draft a reply to <EMAIL_1> (<PHONE_1>)."
    assert completion.text == "Draft a reply to ana@example.com (+49 30 12345678)."


def test_masking_can_be_turned_off() -> None:
    chat = ScriptedProvider("vendor")

    make_llm(chat, mask_pii=False).complete(request("Write to ana@example.com."))

    assert chat.calls[0].prompt == "Write to ana@example.com."


def test_an_identical_request_is_served_from_the_cache_for_free() -> None:
    chat = ScriptedProvider("vendor", reply("First answer."))
    llm = make_llm(chat, cache=InMemoryLlmCache())

    first = llm.complete(request())
    second = llm.complete(request())

    assert len(chat.calls) == 1
    assert second.text == first.text == "First answer."
    assert second.cached is True
    assert (second.tokens_in, second.tokens_out, second.cost_usd) == (0, 0, 0.0)


@pytest.mark.parametrize(
    "change",
    [{"tier": "fast"}, {"temperature": 0.2}, {"prompt": "Summarise September."}],
)
def test_any_change_to_the_request_misses_the_cache(change: dict[str, object]) -> None:
    chat = ScriptedProvider("vendor")
    llm = make_llm(chat, cache=InMemoryLlmCache())
    llm.complete(request())

    llm.complete(request(**change))

    assert len(chat.calls) == 2


def test_a_structured_request_does_not_hit_a_prose_answer() -> None:
    chat = ScriptedProvider("vendor", reply("Prose."), reply('{"category": "a", "urgent": true}'))
    llm = make_llm(chat, cache=InMemoryLlmCache())
    llm.complete(request())

    label, completion = llm.structured(request(), TicketLabel)

    assert completion.cached is False
    assert label.category == "a"


def test_an_expired_cache_entry_is_ignored() -> None:
    clock = Clock()
    chat = ScriptedProvider("vendor", reply("Old."), reply("New."))
    llm = make_llm(chat, cache=InMemoryLlmCache(), clock=clock)
    llm.complete(request())

    clock.now += timedelta(hours=2)
    again = llm.complete(request())

    assert again.text == "New."
    assert again.cached is False


def test_the_cache_keeps_answers_masked_and_restores_them_on_a_hit() -> None:
    cache = InMemoryLlmCache()
    llm = make_llm(ScriptedProvider("vendor"), cache=cache)
    llm.complete(request("Thank ana@example.com."))

    hit = llm.complete(request("Thank ana@example.com."))

    stored = [entry.text for entry in cache._entries.values()]
    assert stored == ["Thank <EMAIL_1>."]
    assert hit.text == "Thank ana@example.com."
    assert hit.cached is True


def test_a_failing_provider_falls_back_to_the_next() -> None:
    failing = ScriptedProvider("first", *[LlmTransientError("500")] * 3)
    working = ScriptedProvider("second", reply("From the second."))
    chain = FallbackLLM([make_llm(failing), make_llm(working)])

    completion = chain.complete(request())

    assert completion.provider == "second"
    assert completion.text == "From the second."
    assert len(failing.calls) == 3


def test_the_offline_provider_ends_the_chain_with_an_honest_answer() -> None:
    chain = FallbackLLM([make_llm(ScriptedProvider("first", LlmRequestError("401"))), OfflineLLM()])

    completion = chain.complete(request())

    assert completion.text == "Offline: billing."
    assert completion.offline is True


def test_unusable_answers_are_paid_for_even_when_the_next_provider_answers() -> None:
    paid = ScriptedProvider("first", reply("nope", 1000, 100), reply("still nope", 1000, 100))
    chain = FallbackLLM([make_llm(paid), OfflineLLM()])

    label, completion = chain.structured(request(tier="smart"), TicketLabel)

    assert label == TicketLabel(category="billing", urgent=True)
    assert completion.offline is True
    assert completion.cost_usd == pytest.approx(2 * (1000 * 2.5 + 100 * 10.0) / 1_000_000)


def test_when_every_provider_fails_and_one_transiently_the_error_is_retryable() -> None:
    chain = FallbackLLM(
        [
            make_llm(ScriptedProvider("first", LlmRequestError("404 model"))),
            make_llm(ScriptedProvider("second", *[LlmTransientError("503")] * 3)),
        ]
    )

    with pytest.raises(LlmUnavailableError, match="first: 404 model; second: 503") as caught:
        chain.complete(request())

    assert isinstance(caught.value, RetryableError)


def test_when_every_provider_refuses_the_last_refusal_is_raised() -> None:
    chain = FallbackLLM(
        [
            make_llm(ScriptedProvider("first", LlmRequestError("401"))),
            make_llm(ScriptedProvider("second", LlmRequestError("403"))),
        ]
    )

    with pytest.raises(LlmRequestError, match="403"):
        chain.complete(request())
