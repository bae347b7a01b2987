"""The OpenAI and Vertex providers through the real SDKs, against fake servers on loopback.

Each fake speaks its vendor's documented wire format and records what it received, so these
tests see exactly what left the process. Waits between retries are recorded instead of slept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from google.oauth2.credentials import Credentials
from pydantic import BaseModel

from shared.llm.errors import LlmOutputError, LlmRequestError
from shared.llm.openai_provider import OpenAIProvider, openai_client
from shared.llm.pipeline import ProviderLLM, RetryPolicy
from shared.llm.pricing import DEFAULT_PRICES
from shared.llm.types import LLM, CompletionRequest
from shared.llm.vertex_provider import VertexProvider, vertex_client
from shared.wiring.llm import build_llm
from shared.wiring.settings import Settings
from tests.helpers.fakes import openai_api, vertex_api
from tests.helpers.fakes.network import NetworkGuard, guard_loopback_only
from tests.helpers.fakes.openai_api import FakeOpenAI
from tests.helpers.fakes.recording_server import Reply
from tests.helpers.fakes.vertex_api import FakeVertex

pytestmark = pytest.mark.integration

PROJECT = "llm-test-project"
LOCATION = "europe-west1"
OPENAI_MODELS = {"smart": "gpt-4o", "fast": "gpt-4o-mini"}
VERTEX_MODELS = {"smart": "gemini-2.5-pro", "fast": "gemini-2.5-flash"}
# A static token: google-genai sends it as is. AnonymousCredentials cannot be used with
# vertexai=True and a project: the SDK refreshes them for a bearer token and fails.
FAKE_CREDENTIALS = Credentials(token="fake-token")  # type: ignore[no-untyped-call]


class TicketLabel(BaseModel):
    category: str
    urgent: bool


class Sleeps:
    """Stands in for time.sleep and records the waits asked for."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    """Fail any attempt to leave the loopback interface, and check none was made."""
    for name in list(os.environ):
        if name.startswith(("CONTROLROOM_LLM_", "OPENAI_", "GOOGLE_GENAI_")):
            monkeypatch.delenv(name)
    guard = guard_loopback_only(monkeypatch)
    yield guard
    assert guard.attempts == []


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_vertex() -> Iterator[FakeVertex]:
    with FakeVertex() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def openai_llm(server: FakeOpenAI, sleeps: Sleeps, timeout_s: float = 5.0) -> ProviderLLM:
    chat = OpenAIProvider(openai_client("sk-test", server.base_url, timeout_s))
    return ProviderLLM(
        chat,
        OPENAI_MODELS,
        prices=DEFAULT_PRICES,
        timeout_s=timeout_s,
        retry=RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=2.0),
        sleep=sleeps,
    )


def vertex_llm(server: FakeVertex, sleeps: Sleeps, timeout_s: float = 5.0) -> ProviderLLM:
    chat = VertexProvider(vertex_client(PROJECT, LOCATION, server.base_url, FAKE_CREDENTIALS))
    return ProviderLLM(
        chat,
        VERTEX_MODELS,
        prices=DEFAULT_PRICES,
        timeout_s=timeout_s,
        retry=RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=2.0),
        sleep=sleeps,
    )


def request(prompt: str = "Summarise October.", **kwargs: object) -> CompletionRequest:
    return CompletionRequest(
        system="You are the support lead.",
        prompt=prompt,
        facts={"category": "billing", "urgent": True},
        offline_template="Offline summary for {{ category }}.",
        **kwargs,  # type: ignore[arg-type]
    )


# --- OpenAI-compatible chat completions ---------------------------------------------------


def test_openai_completion_sends_the_messages_and_counts_the_cost(
    fake_openai: FakeOpenAI, sleeps: Sleeps
) -> None:
    fake_openai.queue(openai_api.answer("October grew.", prompt_tokens=1200, completion_tokens=300))

    completion = openai_llm(fake_openai, sleeps).complete(request(temperature=0.3))

    [sent] = fake_openai.chat_requests()
    assert sent["model"] == "gpt-4o"
    assert sent["temperature"] == 0.3
    assert sent["messages"] == [
        {"role": "system", "content": "You are the support lead."},
        {"role": "user", "content": "Summarise October."},
    ]
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-test"
    assert completion.text == "October grew."
    assert (completion.provider, completion.model) == ("openai", "gpt-4o")
    assert (completion.tokens_in, completion.tokens_out) == (1200, 300)
    assert completion.cost_usd == pytest.approx((1200 * 2.5 + 300 * 10.0) / 1_000_000)


def test_openai_structured_output_asks_for_a_strict_json_schema(
    fake_openai: FakeOpenAI, sleeps: Sleeps
) -> None:
    fake_openai.queue(openai_api.answer('{"category": "billing", "urgent": true}'))

    label, completion = openai_llm(fake_openai, sleeps).structured(
        request(tier="fast"), TicketLabel
    )

    [sent] = fake_openai.chat_requests()
    response_format = sent["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "TicketLabel"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["additionalProperties"] is False
    assert sent["model"] == "gpt-4o-mini"
    assert label == TicketLabel(category="billing", urgent=True)
    assert completion.model == "gpt-4o-mini"


def test_openai_429_waits_for_retry_after_then_succeeds(
    fake_openai: FakeOpenAI, sleeps: Sleeps
) -> None:
    fake_openai.queue(openai_api.error(429, "slow down", retry_after="0.25"))
    fake_openai.queue(openai_api.answer("After the wait."))

    completion = openai_llm(fake_openai, sleeps).complete(request())

    assert completion.text == "After the wait."
    assert sleeps.waits == [0.25]
    assert len(fake_openai.requests) == 2  # the SDK's own retries are off


def test_openai_500_then_success(fake_openai: FakeOpenAI, sleeps: Sleeps) -> None:
    fake_openai.queue(openai_api.error(500, "boom"))

    completion = openai_llm(fake_openai, sleeps).complete(request())

    assert completion.text == "Summarise October."  # the fake's echo
    assert len(fake_openai.requests) == 2
    assert len(sleeps.waits) == 1


def test_openai_timeout_is_retried(fake_openai: FakeOpenAI, sleeps: Sleeps) -> None:
    fake_openai.queue(openai_api.hang())

    completion = openai_llm(fake_openai, sleeps, timeout_s=0.3).complete(request())

    assert completion.text == "Summarise October."
    assert len(fake_openai.requests) == 2


@pytest.mark.parametrize(
    "reply",
    [
        openai_api.error(401, "bad key", code="invalid_api_key"),
        # OpenAI's billing 429: waiting does not help.
        openai_api.error(429, "out of credit", code="insufficient_quota"),
    ],
    ids=["unauthorised", "no-quota"],
)
def test_openai_refusals_are_not_retried(
    fake_openai: FakeOpenAI, sleeps: Sleeps, reply: Reply
) -> None:
    fake_openai.queue(reply)

    with pytest.raises(LlmRequestError):
        openai_llm(fake_openai, sleeps).complete(request())

    assert len(fake_openai.requests) == 1


def test_openai_malformed_json_is_asked_again_then_reported(
    fake_openai: FakeOpenAI, sleeps: Sleeps
) -> None:
    fake_openai.queue(
        openai_api.answer('{"category": "billing", "urgent": tr'),
        openai_api.answer("Sure! Here is the label: billing"),
    )

    with pytest.raises(LlmOutputError, match=r"openai gpt-4o-mini: answer is not a valid"):
        openai_llm(fake_openai, sleeps).structured(request(tier="fast"), TicketLabel)

    assert len(fake_openai.requests) == 2


def test_openai_never_sees_the_pii_and_the_answer_gets_it_back(
    fake_openai: FakeOpenAI, sleeps: Sleeps
) -> None:
    prompt = "Reply to ana@example.com, who paid with 4111 1111 1111 1111 and gave +49 30 1234567."

    completion = openai_llm(fake_openai, sleeps).complete(request(prompt))

    raw = b"".join(r.body for r in fake_openai.requests)
    for secret in (b"ana@example.com", b"4111 1111 1111 1111", b"+49 30 1234567"):
        assert secret not in raw
    [sent] = fake_openai.chat_requests()
    assert sent["messages"][1]["content"] == (
        "Reply to <EMAIL_1>, who paid with <CARD_1> and gave <PHONE_1>."
    )
    assert completion.text == prompt  # the echo, restored


# --- Vertex AI Gemini ------------------------------------------------------------------------


def test_vertex_completion_posts_to_the_publisher_model_path(
    fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    fake_vertex.queue(vertex_api.answer("October grew.", prompt_tokens=2000, output_tokens=400))

    completion = vertex_llm(fake_vertex, sleeps).complete(request(temperature=0.2))

    [(where, body)] = fake_vertex.generate_requests()
    assert where == {"project": PROJECT, "location": LOCATION, "model": "gemini-2.5-pro"}
    assert fake_vertex.requests[0].headers["authorization"] == "Bearer fake-token"
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Summarise October."}]}]
    assert body["systemInstruction"]["parts"] == [{"text": "You are the support lead."}]
    assert body["generationConfig"]["temperature"] == 0.2
    assert completion.text == "October grew."
    assert (completion.provider, completion.model) == ("vertex", "gemini-2.5-pro")
    assert (completion.tokens_in, completion.tokens_out) == (2000, 400)
    assert completion.cost_usd == pytest.approx((2000 * 1.25 + 400 * 10.0) / 1_000_000)


def test_vertex_structured_output_sends_a_response_schema(
    fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    fake_vertex.queue(vertex_api.answer('{"category": "refund", "urgent": false}'))

    label, completion = vertex_llm(fake_vertex, sleeps).structured(
        request(tier="fast"), TicketLabel
    )

    [(where, body)] = fake_vertex.generate_requests()
    config = body["generationConfig"]
    assert where["model"] == "gemini-2.5-flash"
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["type"] == "OBJECT"
    assert set(config["responseSchema"]["properties"]) == {"category", "urgent"}
    assert label == TicketLabel(category="refund", urgent=False)
    assert completion.model == "gemini-2.5-flash"


def test_vertex_429_waits_for_the_retry_info_delay_then_succeeds(
    fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    fake_vertex.queue(vertex_api.error(429, "quota", retry_delay="1.5s"))
    fake_vertex.queue(vertex_api.answer("After the wait."))

    completion = vertex_llm(fake_vertex, sleeps).complete(request())

    assert completion.text == "After the wait."
    assert sleeps.waits == [1.5]
    assert len(fake_vertex.requests) == 2  # google-genai made one attempt each time


def test_vertex_500_then_success(fake_vertex: FakeVertex, sleeps: Sleeps) -> None:
    fake_vertex.queue(vertex_api.error(500, "internal"))

    completion = vertex_llm(fake_vertex, sleeps).complete(request())

    assert completion.text == "Summarise October."
    assert len(fake_vertex.requests) == 2


def test_vertex_timeout_is_retried(fake_vertex: FakeVertex, sleeps: Sleeps) -> None:
    fake_vertex.queue(vertex_api.hang())

    completion = vertex_llm(fake_vertex, sleeps, timeout_s=0.3).complete(request())

    assert completion.text == "Summarise October."
    assert len(fake_vertex.requests) == 2


def test_vertex_bad_request_is_not_retried(fake_vertex: FakeVertex, sleeps: Sleeps) -> None:
    fake_vertex.queue(vertex_api.error(400, "bad schema"))

    with pytest.raises(LlmRequestError, match="400 INVALID_ARGUMENT"):
        vertex_llm(fake_vertex, sleeps).complete(request())

    assert len(fake_vertex.requests) == 1


def test_vertex_malformed_json_is_asked_again_then_reported(
    fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    fake_vertex.queue(
        vertex_api.answer('{"category": "refund"'), vertex_api.answer('{"category": 7}')
    )

    with pytest.raises(LlmOutputError, match=r"vertex gemini-2\.5-flash: answer is not a valid"):
        vertex_llm(fake_vertex, sleeps).structured(request(tier="fast"), TicketLabel)

    assert len(fake_vertex.requests) == 2


def test_vertex_never_sees_the_pii_and_the_answer_gets_it_back(
    fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    prompt = "Call (415) 555-0132 or write to bob@shop.example about 5500 0000 0000 0004."

    completion = vertex_llm(fake_vertex, sleeps).complete(request(prompt))

    raw = b"".join(r.body for r in fake_vertex.requests)
    for secret in (b"(415) 555-0132", b"bob@shop.example", b"5500 0000 0000 0004"):
        assert secret not in raw
    assert completion.text == prompt


# --- The chain, as build_llm assembles it ----------------------------------------------------


def chain_settings(openai: FakeOpenAI, vertex: FakeVertex) -> Settings:
    return Settings(
        llm_providers=("openai", "vertex", "offline"),
        llm_openai_api_key="sk-test",
        llm_openai_base_url=openai.base_url,
        llm_vertex_project=PROJECT,
        llm_vertex_location=LOCATION,
        llm_vertex_base_url=vertex.base_url,
        llm_timeout_s=2.0,
        llm_max_attempts=2,
        llm_max_wait_s=0.05,
    )


def chain(openai: FakeOpenAI, vertex: FakeVertex, sleeps: Sleeps) -> LLM:
    return build_llm(
        chain_settings(openai, vertex), vertex_credentials=FAKE_CREDENTIALS, sleep=sleeps
    )


def test_persistent_500s_fall_back_from_openai_to_vertex(
    fake_openai: FakeOpenAI, fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    fake_openai.queue(openai_api.error(500), openai_api.error(502))
    fake_vertex.queue(vertex_api.answer("From Gemini."))

    completion = chain(fake_openai, fake_vertex, sleeps).complete(request())

    assert completion.text == "From Gemini."
    assert completion.provider == "vertex"
    assert len(fake_openai.requests) == 2
    assert len(fake_vertex.requests) == 1


def test_a_long_retry_hint_moves_on_to_the_next_provider_at_once(
    fake_openai: FakeOpenAI, fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    fake_openai.queue(openai_api.error(429, retry_after="30"))
    fake_vertex.queue(vertex_api.answer('{"category": "billing", "urgent": true}'))

    label, completion = chain(fake_openai, fake_vertex, sleeps).structured(
        request(tier="fast"), TicketLabel
    )

    assert label.category == "billing"
    assert completion.provider == "vertex"
    assert sleeps.waits == []
    assert len(fake_openai.requests) == 1


def test_when_both_vendors_are_down_the_offline_provider_answers(
    fake_openai: FakeOpenAI, fake_vertex: FakeVertex, sleeps: Sleeps
) -> None:
    fake_openai.queue(openai_api.error(503), openai_api.error(503))
    fake_vertex.queue(
        vertex_api.error(503, retry_delay="0.01s"), vertex_api.error(503, retry_delay="0.01s")
    )

    completion = chain(fake_openai, fake_vertex, sleeps).complete(request())

    assert completion.offline is True
    assert completion.text == "Offline summary for billing."
    assert sleeps.waits[-1:] == [0.01]
