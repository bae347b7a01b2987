"""The suppression list in Firestore: email_suppressions/{address_key}.

A document holds the key (never the address), how the person left (`link`: the page in the
email's footer; `one-click`: their mail client's button, RFC 8058) and when. Each is created
once and never expires: someone who unsubscribed stays unsubscribed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from google.api_core import exceptions as gexc

from shared.gcp.firestore import FirestoreAdapter

SUPPRESSIONS = "email_suppressions"
GET_ALL_CHUNK = 300  # document references per get_all call


class FirestoreSuppressions(FirestoreAdapter):
    """`SuppressionList` on Firestore."""

    def suppress(self, key: str, *, source: str, at: datetime) -> bool:
        """Create the key's document; False when it exists already (the first one stays)."""
        document = self.client.collection(SUPPRESSIONS).document(key)
        try:
            document.create({"key": key, "source": source, "at": at})
        except gexc.AlreadyExists:
            return False
        return True

    def suppressed_among(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` have a document, read in chunks of `GET_ALL_CHUNK`."""
        collection = self.client.collection(SUPPRESSIONS)
        unique = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(unique), GET_ALL_CHUNK):
            refs = [collection.document(k) for k in unique[start : start + GET_ALL_CHUNK]]
            found.update(snap.id for snap in self.client.get_all(refs) if snap.exists)
        return found
