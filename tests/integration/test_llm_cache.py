"""The LLM response cache: one suite for every LlmCache, and the Firestore cache end to end.

The Firestore cache runs against the official emulator (reset before each test).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from shared.adapters.firestore_llm_cache import FirestoreLlmCache
from shared.llm.cache import CACHE_COLLECTION, CachedAnswer, InMemoryLlmCache, LlmCache
from shared.llm.types import CompletionRequest
from shared.wiring.llm import build_llm
from shared.wiring.settings import Settings
from tests.conftest import Emulators
from tests.helpers.fakes import openai_api
from tests.helpers.fakes.openai_api import FakeOpenAI

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def answer(text: str = "Cached prose.", expires_in: timedelta = timedelta(hours=1)) -> CachedAnswer:
    return CachedAnswer(
        text=text,
        provider="openai",
        model="gpt-4o",
        tokens_in=120,
        tokens_out=30,
        created_at=NOW,
        expires_at=NOW + expires_in,
    )


@pytest.fixture(params=["memory", "firestore"])
def cache(request: pytest.FixtureRequest) -> LlmCache:
    """Each LlmCache implementation, empty."""
    if request.param == "memory":
        return InMemoryLlmCache()
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    return FirestoreLlmCache(emulators.project)


def key() -> str:
    return uuid.uuid4().hex


def test_a_missing_key_is_a_miss(cache: LlmCache) -> None:
    assert cache.get(key(), NOW) is None


def test_a_stored_answer_is_returned_until_it_expires(cache: LlmCache) -> None:
    k = key()
    cache.put(k, answer(expires_in=timedelta(minutes=10)))

    fresh = cache.get(k, NOW + timedelta(minutes=9))
    expired = cache.get(k, NOW + timedelta(minutes=10))

    assert fresh == answer(expires_in=timedelta(minutes=10))
    assert expired is None


def test_a_new_answer_replaces_the_old(cache: LlmCache) -> None:
    k = key()
    cache.put(k, answer("Old."))

    cache.put(k, answer("New."))

    found = cache.get(k, NOW)
    assert found is not None
    assert found.text == "New."


def test_the_firestore_entry_has_a_timestamp_for_the_ttl_policy(
    clean_emulators: Emulators,
) -> None:
    k = key()
    FirestoreLlmCache(clean_emulators.project).put(k, answer())

    stored = firestore.Client(project=clean_emulators.project).collection(CACHE_COLLECTION)
    document = stored.document(k).get().to_dict()

    assert document is not None
    assert isinstance(document["expires_at"], datetime)
    assert document["expires_at"] == NOW + timedelta(hours=1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    for name in list(os.environ):
        if name.startswith("CONTROLROOM_LLM_"):
            monkeypatch.delenv(name)
    with FakeOpenAI() as server:
        yield server


def request() -> CompletionRequest:
    return CompletionRequest(
        system="You are the support lead.",
        prompt=f"Answer ana@example.com about ticket {uuid.uuid4().hex[:6]}.",
    )


def test_the_second_identical_request_is_answered_from_firestore(
    clean_emulators: Emulators, fake_openai: FakeOpenAI
) -> None:
    clock = Clock()
    settings = Settings(
        llm_providers=("openai",),
        llm_openai_api_key="sk-test",
        llm_openai_base_url=fake_openai.base_url,
        llm_cache_ttl_s=3600,
    )
    ask = request()
    fake_openai.queue(openai_api.answer("Dear <EMAIL_1>, it is fixed.", completion_tokens=9))

    # Two processes: the second builds its own LLM and finds the first one's answer.
    first = build_llm(settings, FirestoreLlmCache(clean_emulators.project), clock=clock)
    second = build_llm(settings, FirestoreLlmCache(clean_emulators.project), clock=clock)
    paid = first.complete(ask)
    free = second.complete(ask)

    assert len(fake_openai.requests) == 1
    assert paid.text == free.text == "Dear ana@example.com, it is fixed."
    assert (paid.cached, paid.tokens_out) == (False, 9)
    assert (free.cached, free.tokens_out, free.cost_usd) == (True, 0, 0.0)
    stored = firestore.Client(project=clean_emulators.project).collection(CACHE_COLLECTION)
    [entry] = [doc.to_dict() for doc in stored.stream()]
    assert entry["text"] == "Dear <EMAIL_1>, it is fixed."  # PII never reaches the cache
    assert "ana@example.com" not in str(entry)


def test_an_expired_firestore_entry_is_ignored(
    clean_emulators: Emulators, fake_openai: FakeOpenAI
) -> None:
    clock = Clock()
    settings = Settings(
        llm_providers=("openai",),
        llm_openai_api_key="sk-test",
        llm_openai_base_url=fake_openai.base_url,
        llm_cache_ttl_s=3600,
    )
    llm = build_llm(settings, FirestoreLlmCache(clean_emulators.project), clock=clock)
    ask = request()
    fake_openai.queue(openai_api.answer("Yesterday's answer."), openai_api.answer("Today's."))
    llm.complete(ask)

    clock.now += timedelta(hours=1, seconds=1)
    again = llm.complete(ask)

    assert again.text == "Today's."
    assert again.cached is False
    assert len(fake_openai.requests) == 2
