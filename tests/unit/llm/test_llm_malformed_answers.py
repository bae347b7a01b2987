"""Malformed bodies from an OpenAI-compatible server are transient failures, retried and then
reported clearly; a fallback answer says why the providers before it failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.llm.errors import LlmTransientError
from shared.llm.offline import OfflineLLM
from shared.llm.openai_provider import OpenAIProvider, openai_client
from shared.llm.pipeline import FallbackLLM, ProviderLLM, RetryPolicy
from shared.llm.pricing import DEFAULT_PRICES
from shared.llm.types import CompletionRequest
from tests.helpers.fakes.openai_api import FakeOpenAI, answer, error
from tests.helpers.fakes.recording_server import Reply

CUT_SHORT = Reply(body='{"id": "chatcmpl-1", "choices": [{"ind')
HTML_PAGE = Reply(body="<html>502 Bad Gateway</html>", headers={"Content-Type": "text/html"})
REQUEST = CompletionRequest(system="Be brief.", prompt="Say hello.", offline_template="hello")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    """The fake OpenAI server."""
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


def _provider(fake: FakeOpenAI, attempts: int) -> ProviderLLM:
    return ProviderLLM(
        OpenAIProvider(openai_client(None, fake.base_url, 2)),
        {"smart": "gpt-4o", "fast": "gpt-4o-mini"},
        prices=DEFAULT_PRICES,
        timeout_s=2,
        retry=RetryPolicy(max_attempts=attempts, initial_wait_s=0.01, max_wait_s=0.05),
        cache_ttl_s=0,
    )


def test_malformed_bodies_are_retried_until_a_good_answer(fake: FakeOpenAI) -> None:
    fake.queue(CUT_SHORT, HTML_PAGE, answer("Hello."))

    completion = _provider(fake, attempts=3).complete(REQUEST)

    assert completion.text == "Hello." and completion.provider == "openai"
    assert len(fake.chat_requests()) == 3


def test_a_body_that_stays_malformed_fails_with_a_clear_transient_error(
    fake: FakeOpenAI,
) -> None:
    fake.queue(CUT_SHORT, HTML_PAGE)

    with pytest.raises(LlmTransientError, match="malformed response body: not a chat completion"):
        _provider(fake, attempts=2).complete(REQUEST)
    assert len(fake.chat_requests()) == 2


def test_the_fallback_answer_carries_why_the_provider_before_it_failed(fake: FakeOpenAI) -> None:
    fake.queue(error(500), CUT_SHORT)

    completion = FallbackLLM([_provider(fake, attempts=2), OfflineLLM()]).complete(REQUEST)

    assert completion.provider == "offline"
    [reason] = completion.fallback_reasons
    assert reason.startswith("openai: openai: malformed response body")
