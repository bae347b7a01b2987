"""The tracking API's Firestore adapters: the sharded quota counter and the profiles.

Layout:
    tracking_usage/{source}-{day}/shards/{n}    events counted for a source on a UTC day
    profiles/{user_id}                          an identified user's profile (with per-day
                                                event counts, `daily`, for segment windows)
    anonymous_profiles/{anonymous_id}           a visitor's, before (or without) identify
    <profile>/events/{event_id}                 each applied event: its idempotency record,
                                                and the profile's recent events
    recommendation_sets/popular                 the popularity ranking, refreshed by a job
    user_recommendations/{user_id}              a user's list, refreshed by the same job
Every document carries `expire_at` for a Firestore TTL policy: quota shards 2 days after
their day, events after EVENT_RETENTION (which is also how long a re-sent event is caught).

No hot document:
- The quota of one source and day is spread over `shards` documents; a request increments
  one at random and reads the total with a sum aggregation, so a source may sustain about
  `shards` requests a second (Firestore's ~1 write/s/document), each carrying a batch.
- An event is applied with one atomic batched write (no transaction, so no lock to contend
  for): `create` its event document, which fails if it exists, and merge the profile's
  counters with Increment/Minimum/Maximum transforms, which commute. A redelivered event
  fails the create and changes nothing. A profile document is written once per event of
  that one user, so it only runs hot for a user who sends more than about one event a
  second, sustained.
Trait merges do not commute: with two identify calls for one user delivered out of order,
the older one's traits win (last write wins, as with most CDPs without per-trait times).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.aggregation import AggregationQuery

from shared.core.messages import TrackedEvent
from shared.gcp.firestore import BATCH_WRITES, FirestoreAdapter, firestore_safe
from shared.tracking.models import RECENT_EVENTS, Profile, ProfileDoc
from shared.tracking.recommendations import (
    ScoredItem,
    UserRecommendations,
    item_of,
    popular_items,
)

EVENT_RETENTION = timedelta(days=90)
USER_RECOMMENDATIONS = "user_recommendations"
PROFILE_COLLECTIONS = {"user": "profiles", "anonymous": "anonymous_profiles"}


class FirestoreQuota(FirestoreAdapter):
    """The daily event counts per source, as sharded counters."""

    def __init__(
        self, project_id: str, client: firestore.Client | None = None, shards: int = 16
    ) -> None:
        super().__init__(project_id, client)
        self.shards = shards

    def _shards(self, source: str, day: date) -> Any:
        usage = self.client.collection("tracking_usage").document(f"{source}-{day.isoformat()}")
        return usage.collection("shards")

    def reserve(self, source: str, day: date, count: int, limit: int) -> bool:
        """Count first, then read the total and give the count back if it went over.

        Every accepted request saw a total, its own events included, within the limit after
        its increment, and the last of them saw all the others': accepted events never exceed
        the quota. Near the limit, concurrent requests may both be refused (conservative).
        """
        if count > limit:
            return False
        self._add(source, day, count)
        if self.used(source, day) <= limit:
            return True
        self._add(source, day, -count)
        return False

    def release(self, source: str, day: date, count: int) -> None:
        """Give back a reservation whose events were not published."""
        self._add(source, day, -count)

    def used(self, source: str, day: date) -> int:
        """Events counted for `source` on `day`."""
        query: AggregationQuery = self._shards(source, day).sum("count", alias="total")
        results: Any = query.get()  # one list of results per aggregation run
        total = results[0][0].value if results and results[0] else 0
        return int(total or 0)

    def _add(self, source: str, day: date, count: int) -> None:
        shard = self._shards(source, day).document(str(random.randrange(self.shards)))
        expire_at = datetime.combine(day + timedelta(days=2), time(), UTC)
        shard.set(
            {"count": firestore.Increment(count), "source": source, "expire_at": expire_at},
            merge=True,
        )


class FirestoreProfiles(FirestoreAdapter):
    """Profiles and their applied events."""

    def _profile(self, kind: str, profile_id: str) -> Any:
        return self.client.collection(PROFILE_COLLECTIONS[kind]).document(profile_id)

    def apply(self, event: TrackedEvent) -> bool:
        """Apply one event to its profile; False when it had been applied already."""
        kind, profile_id = event.profile_key
        profile = self._profile(kind, profile_id)
        at_ms = int(event.timestamp.timestamp() * 1000)
        update: dict[str, Any] = {
            "counters": {event.name: firestore.Increment(1)},
            # Per UTC day of the event, for the segments' time windows (shared/tracking/segments).
            "daily": {
                event.timestamp.astimezone(UTC).date().isoformat(): {
                    event.name: firestore.Increment(1)
                }
            },
            "event_count": firestore.Increment(1),
            "first_seen_ms": firestore.Minimum(at_ms),
            "last_seen_ms": firestore.Maximum(at_ms),
            "sources": firestore.ArrayUnion([event.source]),
            "updated_at": firestore.SERVER_TIMESTAMP,
        }
        item = item_of(event.properties)
        if item is not None:
            update["items"] = {item: firestore.Increment(1)}
        if event.traits:
            update["traits"] = firestore_safe(event.traits)
        if kind == "user" and event.anonymous_id:
            update["anonymous_ids"] = firestore.ArrayUnion([event.anonymous_id])
        record = {
            **firestore_safe(event.model_dump(mode="python")),
            "expire_at": event.received_at + EVENT_RETENTION,
        }
        batch = self.client.batch()
        batch.create(profile.collection("events").document(event.event_id), record)
        batch.set(profile, update, merge=True)
        try:
            batch.commit()
        except gexc.AlreadyExists:
            return False
        return True

    def get(self, kind: str, profile_id: str, recent: int = RECENT_EVENTS) -> Profile | None:
        """A profile with its `recent` newest events, or None if it has none."""
        profile = self._profile(kind, profile_id)
        snapshot = profile.get()
        if not snapshot.exists:
            return None
        data = snapshot.to_dict() or {}
        for field in ("first_seen", "last_seen"):
            millis = data.get(f"{field}_ms")
            if millis is not None:
                data[field] = datetime.fromtimestamp(millis / 1000, UTC)
        query = (
            profile.collection("events")
            .order_by("timestamp", direction=firestore.Query.DESCENDING)
            .limit(recent)
        )
        events = [TrackedEvent.model_validate(_event_fields(d.to_dict())) for d in query.stream()]
        return Profile(
            kind="user" if kind == "user" else "anonymous",
            id=profile_id,
            doc=ProfileDoc.model_validate(data),
            recent_events=events,
        )


def _event_fields(data: dict[str, Any] | None) -> dict[str, Any]:
    fields = set(TrackedEvent.model_fields)
    return {k: v for k, v in (data or {}).items() if k in fields}


class FirestoreRecommendations(FirestoreAdapter):
    """The stored rankings, each user's stored list, and the users' item counters."""

    def stored_for(self, user_id: str) -> UserRecommendations | None:
        """The list the last refresh stored for the user (one document read)."""
        snapshot = self.client.collection(USER_RECOMMENDATIONS).document(user_id).get()
        if not snapshot.exists:
            return None
        return UserRecommendations.model_validate(snapshot.to_dict())

    def user_item_counts(self) -> Iterator[tuple[str, dict[str, int]]]:
        """Every user profile's id and item counters (only that field is read)."""
        for profile in self.client.collection("profiles").select(["items"]).stream():
            yield profile.id, dict((profile.to_dict() or {}).get("items", {}))

    def store_popular(self, ranking: Sequence[ScoredItem]) -> None:
        """Replace the popularity ranking."""
        self.client.collection("recommendation_sets").document("popular").set(
            {
                "items": [item.model_dump() for item in ranking],
                "refreshed_at": firestore.SERVER_TIMESTAMP,
            }
        )

    def store_for_users(self, lists: Iterable[UserRecommendations]) -> int:
        """Replace each user's list, BATCH_WRITES documents per commit."""
        collection = self.client.collection(USER_RECOMMENDATIONS)
        written = 0
        batch = self.client.batch()
        for recommendations in lists:
            document = {**recommendations.model_dump(), "refreshed_at": firestore.SERVER_TIMESTAMP}
            batch.set(collection.document(recommendations.user_id), document)
            written += 1
            if written % BATCH_WRITES == 0:
                batch.commit()
                batch = self.client.batch()
        if written % BATCH_WRITES:
            batch.commit()
        return written

    def popular(self) -> list[ScoredItem]:
        """The ranking last stored by `refresh_popular`."""
        snapshot = self.client.collection("recommendation_sets").document("popular").get()
        items = (snapshot.to_dict() or {}).get("items", []) if snapshot.exists else []
        return [ScoredItem.model_validate(item) for item in items]

    def items_of(self, user_id: str) -> set[str]:
        """The items the user's profile counted."""
        snapshot = self.client.collection("profiles").document(user_id).get(field_paths=["items"])
        return set((snapshot.to_dict() or {}).get("items", {})) if snapshot.exists else set()

    def refresh_popular(self, limit: int = 100) -> list[ScoredItem]:
        """Rank items over every user profile and store the ranking (the scheduled job).

        It reads only the `items` field of each profile; at millions of profiles this would
        move to an export (BigQuery) or to per-item sharded counters.
        """
        ranking = popular_items((items for _, items in self.user_item_counts()), limit=limit)
        self.store_popular(ranking)
        return ranking
