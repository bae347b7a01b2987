"""The tracking API's adapters, built from settings once per process (entry points only)."""

from __future__ import annotations

from functools import lru_cache

from shared.core.models import utcnow
from shared.tracking.firestore import FirestoreProfiles, FirestoreQuota, FirestoreRecommendations
from shared.tracking.firestore_segments import FirestoreSegments
from shared.tracking.keys import TrackingKeyTable
from shared.tracking.membership import SegmentUpdate, refresh_all_segments
from shared.tracking.recommendations import RecommendationRefresh, refresh_recommendations
from shared.tracking.segments import SegmentCatalog, bundled_segments
from shared.wiring.services import services


@lru_cache(maxsize=1)
def key_table() -> TrackingKeyTable:
    """The configured tracking keys with their tiers' quotas."""
    settings = services().settings
    return TrackingKeyTable.build(settings.tracking_keys, settings.tracking_tier_quotas)


@lru_cache(maxsize=1)
def quota() -> FirestoreQuota:
    """The sharded daily counters, sharing the store's client."""
    svc = services()
    return FirestoreQuota(
        svc.settings.project_id, client=svc.store.client, shards=svc.settings.tracking_quota_shards
    )


@lru_cache(maxsize=1)
def profiles() -> FirestoreProfiles:
    """The profiles in Firestore, sharing the store's client."""
    svc = services()
    return FirestoreProfiles(svc.settings.project_id, client=svc.store.client)


@lru_cache(maxsize=1)
def recommendations() -> FirestoreRecommendations:
    """The stored rankings, sharing the store's client."""
    svc = services()
    return FirestoreRecommendations(svc.settings.project_id, client=svc.store.client)


@lru_cache(maxsize=1)
def segments() -> FirestoreSegments:
    """The segment memberships in Firestore, sharing the store's client."""
    svc = services()
    return FirestoreSegments(svc.settings.project_id, client=svc.store.client)


def segment_catalog() -> SegmentCatalog:
    """The segment definitions (shared/policies/segments.yaml)."""
    return bundled_segments()


def refresh_segments_now() -> SegmentUpdate:
    """Re-evaluate every user's segments now and publish the changes (the hourly job)."""
    return refresh_all_segments(
        catalog=segment_catalog(), store=segments(), bus=services().bus, clock=utcnow
    )


def refresh_recommendations_now() -> RecommendationRefresh:
    """Recompute and store the popularity ranking and every user's list (the hourly job)."""
    return refresh_recommendations(recommendations())


def clear_caches() -> None:
    """Forget every adapter (tests that change the settings)."""
    for cached in (key_table, quota, profiles, recommendations, segments):
        cached.cache_clear()
