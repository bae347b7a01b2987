"""What every Firestore adapter shares: one project and one lazily created, shareable client."""

from __future__ import annotations

from functools import cached_property

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
