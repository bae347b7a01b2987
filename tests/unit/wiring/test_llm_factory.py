"""build_llm from settings, the LLM settings read from the environment, and offline structure."""

from __future__ import annotations

import os

import pytest
from pydantic import BaseModel, ValidationError

from shared.llm.errors import LlmOutputError
from shared.llm.offline import OfflineLLM
from shared.llm.pipeline import FallbackLLM, ProviderLLM
from shared.llm.pricing import DEFAULT_PRICES, ModelPrice, cost_usd
from shared.llm.tiers import resolve_model
from shared.llm.types import CompletionRequest
from shared.wiring.llm import build_llm
from shared.wiring.settings import Settings
from tests.helpers.fakes.network import guard_loopback_only


class TicketLabel(BaseModel):
    category: str
    urgent: bool


@pytest.fixture(autouse=True)
def no_llm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own LLM keys must not change what these tests build."""
    for name in list(os.environ):
        if name.startswith("CONTROLROOM_LLM_"):
            monkeypatch.delenv(name)


def test_with_no_key_configured_the_llm_is_the_offline_provider() -> None:
    llm = build_llm(Settings())

    assert isinstance(llm, OfflineLLM)


def test_a_key_puts_openai_before_the_offline_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = guard_loopback_only(monkeypatch)

    llm = build_llm(Settings(llm_openai_api_key="sk-test"))

    assert isinstance(llm, FallbackLLM)
    assert [getattr(link, "provider", None) for link in llm.chain] == ["openai", "offline"]
    assert guard.attempts == []


def test_a_vertex_location_adds_vertex_without_touching_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guard = guard_loopback_only(monkeypatch)

    llm = build_llm(
        Settings(
            llm_openai_base_url="http://127.0.0.1:9/v1",
            llm_vertex_location="europe-west1",
            llm_providers=("vertex", "openai"),
        )
    )

    assert isinstance(llm, FallbackLLM)
    assert [getattr(link, "provider", None) for link in llm.chain] == ["vertex", "openai"]
    assert guard.attempts == []


def test_a_single_configured_provider_is_used_directly() -> None:
    llm = build_llm(Settings(llm_openai_api_key="sk-test", llm_providers=("openai",)))

    assert isinstance(llm, ProviderLLM)


def test_llm_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTROLROOM_LLM_PROVIDERS", '["vertex", "offline"]')
    monkeypatch.setenv("CONTROLROOM_LLM_OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv(
        "CONTROLROOM_LLM_OPENAI_MODELS",
        '{"smart": "llama3.1:70b", "fast": "llama3.1:8b", "support.fast": "qwen2.5:7b"}',
    )
    monkeypatch.setenv(
        "CONTROLROOM_LLM_PRICES", '{"llama3.1:70b": {"input_per_mtok": 0.5, "output_per_mtok": 1}}'
    )
    monkeypatch.setenv("CONTROLROOM_LLM_TIMEOUT_S", "7.5")

    settings = Settings()

    assert settings.llm_providers == ("vertex", "offline")
    assert settings.llm_openai_api_key is not None
    assert settings.llm_openai_api_key.get_secret_value() == "sk-from-env"
    assert "sk-from-env" not in repr(settings)
    assert resolve_model(settings.llm_openai_models, "fast", "support") == "qwen2.5:7b"
    assert resolve_model(settings.llm_openai_models, "fast", "finance") == "llama3.1:8b"
    assert settings.llm_prices == {
        "llama3.1:70b": ModelPrice(input_per_mtok=0.5, output_per_mtok=1)
    }
    assert settings.llm_timeout_s == 7.5


def test_an_unknown_provider_name_is_a_settings_error() -> None:
    with pytest.raises(ValidationError):
        Settings(llm_providers=("openai", "anthropic"))  # type: ignore[arg-type]


def test_the_default_price_table_prices_the_default_models() -> None:
    settings = Settings()

    for model in [*settings.llm_openai_models.values(), *settings.llm_vertex_models.values()]:
        assert model in DEFAULT_PRICES
    assert cost_usd(DEFAULT_PRICES, "gpt-4o", 1_000_000, 1_000_000) == 12.5


def test_offline_structured_output_uses_the_offline_answer() -> None:
    request = CompletionRequest(
        system="Label the ticket.",
        prompt="My card was charged twice.",
        tier="fast",
        offline_answer={"category": "billing", "urgent": True},
    )

    label, completion = OfflineLLM().structured(request, TicketLabel)

    assert label == TicketLabel(category="billing", urgent=True)
    assert completion.text == '{"category":"billing","urgent":true}'
    assert (completion.offline, completion.cost_usd) == (True, 0.0)


def test_offline_structured_output_falls_back_to_the_facts() -> None:
    request = CompletionRequest(
        system="", prompt="", facts={"category": "refund", "urgent": False, "orders": 3}
    )

    label, _ = OfflineLLM().structured(request, TicketLabel)

    assert label == TicketLabel(category="refund", urgent=False)


def test_offline_structured_output_that_misses_the_schema_is_an_output_error() -> None:
    request = CompletionRequest(system="", prompt="", facts={"category": "refund"})

    with pytest.raises(LlmOutputError, match="TicketLabel"):
        OfflineLLM().structured(request, TicketLabel)
