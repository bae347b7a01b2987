"""What every Firestore adapter shares: one project and one lazily created, shareable client."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from google.cloud import firestore


class FirestoreAdapter:
    """Base of the Firestore adapters; pass `client` to share one connection between them."""

    def __init__(self, project_id: str, client: firestore.Client | None = None) -> None:
        self.project_id = project_id
        self._client = client

    @cached_property
    def client(self) -> firestore.Client:
        """The Firestore client, created on first use (never at import)."""
        return self._client or firestore.Client(project=self.project_id)


def firestore_safe(value: Any, inside_list: bool = False) -> Any:
    """The value with every array directly inside an array wrapped as {"items": [...]}.

    Firestore cannot store an array in an array (e.g. a report's list of channel pairs); the
    wrapper keeps the data readable instead of dropping or flattening it.
    """
    if isinstance(value, dict):
        return {k: firestore_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [firestore_safe(v, inside_list=True) for v in value]
        return {"items": items} if inside_list else items
    return value


# Firestore commits at most 500 writes at once.
BATCH_WRITES = 450
