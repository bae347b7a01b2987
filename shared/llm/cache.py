"""The response cache port: answers keyed on a hash of everything that shapes them.

The key covers provider, model, the (masked) system and prompt texts, the JSON schema of a
structured answer and the temperature, so any change to the request is a miss. Entries hold
the answer as the provider gave it, placeholders and all: PII never reaches the cache.
Expired entries are ignored on read (a store's TTL policy deletes them later, in its own
time). The Firestore implementation is shared.adapters.firestore_llm_cache.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

CACHE_COLLECTION = "llm_cache"


class CachedAnswer(BaseModel):
    """One cached answer (text still masked) and the usage it cost when it was made."""

    model_config = ConfigDict(frozen=True)
    text: str
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    created_at: datetime
    expires_at: datetime


class LlmCache(Protocol):
    """Where answers are kept between calls and processes."""

    def get(self, key: str, now: datetime) -> CachedAnswer | None:
        """The answer stored under `key` unless it is missing or expired at `now`."""
        ...

    def put(self, key: str, answer: CachedAnswer) -> None:
        """Store (or replace) the answer under `key`."""
        ...


def cache_key(
    *,
    provider: str,
    model: str,
    system: str,
    prompt: str,
    schema: dict[str, Any] | None,
    temperature: float | None,
) -> str:
    """A SHA-256 hex digest of the request's canonical JSON."""
    canonical = json.dumps(
        {
            "provider": provider,
            "model": model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
            "schema": schema,
            "temperature": temperature,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class InMemoryLlmCache:
    """A cache in a dict: for tests and single-process local runs."""

    def __init__(self) -> None:
        self._entries: dict[str, CachedAnswer] = {}

    def get(self, key: str, now: datetime) -> CachedAnswer | None:
        """The unexpired answer under `key`, or None."""
        answer = self._entries.get(key)
        return answer if answer is not None and answer.expires_at > now else None

    def put(self, key: str, answer: CachedAnswer) -> None:
        """Store the answer under `key`."""
        self._entries[key] = answer
