"""Lead scoring's adapters built from settings (only entry points import this)."""

from __future__ import annotations

from functools import lru_cache

from shared.leads.enrichment import Enricher, LocalEnricher, PeopleDataLabsEnricher
from shared.leads.firestore import FirestoreLeads
from shared.leads.ports import LeadPorts
from shared.wiring.services import services
from shared.wiring.tracking import refresh_recommendations_now, refresh_segments_now, segments


def enricher() -> Enricher:
    """People Data Labs when CONTROLROOM_ENRICHMENT_PROVIDER says so, else the local twin."""
    settings = services().settings
    if settings.enrichment_provider == "peopledatalabs":
        if settings.peopledatalabs_api_key is None:
            raise ValueError("enrichment_provider=peopledatalabs needs peopledatalabs_api_key")
        return PeopleDataLabsEnricher(settings.peopledatalabs_api_key.get_secret_value())
    return LocalEnricher()


@lru_cache(maxsize=1)
def lead_ports() -> LeadPorts:
    """The lead-scoring adapters, sharing the store's Firestore client."""
    svc = services()
    return LeadPorts(
        enricher=enricher(),
        leads=FirestoreLeads(svc.settings.project_id, client=svc.store.client),
        segments=segments(),
        refresh_segments=refresh_segments_now,
        refresh_recommendations=refresh_recommendations_now,
    )
