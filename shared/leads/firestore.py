"""Leads and the enrichment cache in Firestore.

Layout:
    leads/{user_id}                  the latest score: fit, intent, score, grade, reasons,
                                     company, segments, enrichment, run_id, scored_at
    enrichment_cache/{sha256(email)} what the provider answered (or that it knew nothing),
                                     and when: asked again only when older than the policy's
                                     `enrich_max_age_days`. Keyed by a hash, never the address.
Each document belongs to one person; a run writes them in batches of at most 500.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from google.cloud import firestore

from shared.gcp.firestore import FirestoreAdapter
from shared.leads.enrichment import Enrichment
from shared.leads.scoring import LeadScore

LEADS = "leads"
ENRICHMENT_CACHE = "enrichment_cache"
BATCH_LIMIT = 500


def cache_key(email: str) -> str:
    """The enrichment cache's document id of one address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class FirestoreLeads(FirestoreAdapter):
    """Scored leads and cached enrichments (implements shared.leads.ports.LeadStore)."""

    def save_scores(
        self,
        run_id: str,
        scores: Sequence[LeadScore],
        enrichments: dict[str, Enrichment | None],
        at: datetime,
    ) -> None:
        """Write each person's latest score (a rerun of the same run writes the same)."""
        for start in range(0, len(scores), BATCH_LIMIT):
            batch = self.client.batch()
            for lead in scores[start : start + BATCH_LIMIT]:
                enrichment = enrichments.get(lead.user_id)
                batch.set(
                    self.client.collection(LEADS).document(lead.user_id),
                    {
                        **lead.model_dump(mode="json"),
                        "enrichment": enrichment.model_dump(mode="json") if enrichment else None,
                        "run_id": run_id,
                        "scored_at": at,
                    },
                )
            batch.commit()

    def top(self, limit: int = 50) -> list[dict[str, Any]]:
        """The best-scored leads, best first."""
        query = (
            self.client.collection(LEADS)
            .order_by("score", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [s.to_dict() or {} for s in query.stream()]

    def cached_enrichment(self, email: str) -> tuple[Enrichment | None, datetime] | None:
        """The cached answer for an address and when it was fetched, or None if never asked."""
        snapshot = self.client.collection(ENRICHMENT_CACHE).document(cache_key(email)).get()
        if not snapshot.exists:
            return None
        data = snapshot.to_dict() or {}
        found = data.get("enrichment")
        return (Enrichment.model_validate(found) if found else None), data["fetched_at"]

    def cache_enrichment(self, email: str, enrichment: Enrichment | None, at: datetime) -> None:
        """Remember the provider's answer (None too: no match is worth remembering)."""
        self.client.collection(ENRICHMENT_CACHE).document(cache_key(email)).set(
            {
                "enrichment": enrichment.model_dump(mode="json") if enrichment else None,
                "fetched_at": at,
            }
        )
