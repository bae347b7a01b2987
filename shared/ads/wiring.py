"""The ad manager's adapters built from settings (only entry points import this)."""

from __future__ import annotations

from functools import lru_cache

from shared.ads.firestore import FirestoreAdCampaigns
from shared.ads.local_twin import LocalAdPlatform
from shared.ads.models import PLATFORMS, Platform
from shared.ads.ports import AdPlatform, AdPorts
from shared.wiring import services


def _platform(name: Platform) -> AdPlatform:
    """The real client when the platform's credentials are set, else its local twin."""
    svc = services()
    return LocalAdPlatform(name, svc.settings.project_id, client=svc.store.client)


@lru_cache(maxsize=1)
def ad_ports() -> AdPorts:
    """Every platform's account and our campaign records, sharing the store's client."""
    svc = services()
    return AdPorts(
        platforms={name: _platform(name) for name in PLATFORMS},
        store=FirestoreAdCampaigns(svc.settings.project_id, client=svc.store.client),
    )
