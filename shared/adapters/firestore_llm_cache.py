"""The LLM response cache on Firestore: llm_cache/{sha256 of the request}.

Each document holds the answer as the provider gave it (PII still masked), its usage, and
`expires_at`, the field a Firestore TTL policy on the collection deletes by. TTL deletion
lags (up to about a day), so expired entries are also ignored on read. A cache that cannot
be reached is a miss, logged: an answer already paid for is never lost to a cache failure.
"""

from __future__ import annotations

import logging
from datetime import datetime

from google.api_core import exceptions as gexc
from pydantic import ValidationError

from shared.gcp.firestore import FirestoreAdapter
from shared.llm.cache import CACHE_COLLECTION, CachedAnswer

logger = logging.getLogger(__name__)


class FirestoreLlmCache(FirestoreAdapter):
    """LlmCache implemented with the official google-cloud-firestore client."""

    def get(self, key: str, now: datetime) -> CachedAnswer | None:
        """The unexpired answer under `key`, or None (also when Firestore fails)."""
        try:
            snapshot = self.client.collection(CACHE_COLLECTION).document(key).get()
        except gexc.GoogleAPIError as exc:
            logger.warning("LLM cache read failed, treated as a miss: %s", exc)
            return None
        if not snapshot.exists:
            return None
        try:
            answer = CachedAnswer.model_validate(snapshot.to_dict())
        except ValidationError as exc:
            logger.warning("LLM cache entry %s is malformed, treated as a miss: %s", key, exc)
            return None
        return answer if answer.expires_at > now else None

    def put(self, key: str, answer: CachedAnswer) -> None:
        """Store the answer under `key` (a failure is logged, not raised)."""
        try:
            self.client.collection(CACHE_COLLECTION).document(key).set(answer.model_dump())
        except gexc.GoogleAPIError as exc:
            logger.warning("LLM cache write failed: %s", exc)
