"""The segments' Firestore adapter: profiles' facts in, memberships out.

Layout:
    profiles/{user_id}                     read: traits, counters, daily (per-day counts)
    segment_members/{segment}:{user_id}    one (segment, user): member, entries, changed_at,
                                           announced (see shared/tracking/membership.py)
Reads are batched (`get_all`: one call for a page of users, one for their memberships). A
change is a compare-and-set on its own document: `create` when there was none, else
`update` with the update time it was read at as a precondition. No query needs an index;
members of one segment are `segment_members` where `segment == name` (single-field index).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from shared.gcp.firestore import FirestoreAdapter
from shared.tracking.membership import Membership, Stored, membership_id
from shared.tracking.segments import ProfileFacts

MEMBERS = "segment_members"
PROFILES = "profiles"
FACT_FIELDS = ["traits", "counters", "daily"]


class FirestoreSegments(FirestoreAdapter):
    """Segment memberships, one document per (segment, user)."""

    def facts(self, user_ids: Sequence[str]) -> dict[str, ProfileFacts]:
        """The facts of each user that has a profile."""
        refs = [self.client.collection(PROFILES).document(u) for u in user_ids]
        found: dict[str, ProfileFacts] = {}
        for snapshot in self.client.get_all(refs, field_paths=FACT_FIELDS):
            if snapshot.exists:
                data = snapshot.to_dict() or {}
                found[snapshot.id] = ProfileFacts(user_id=snapshot.id, **_facts_fields(data))
        return found

    def memberships(
        self, user_ids: Sequence[str], segments: Sequence[str]
    ) -> dict[tuple[str, str], Stored]:
        """The stored memberships of these users in these segments."""
        members = self.client.collection(MEMBERS)
        refs = [members.document(membership_id(s, u)) for u in user_ids for s in segments]
        stored: dict[tuple[str, str], Stored] = {}
        for snapshot in self.client.get_all(refs) if refs else ():
            if snapshot.exists:
                membership = Membership.model_validate(snapshot.to_dict())
                key = (membership.segment, membership.user_id)
                stored[key] = Stored(membership, snapshot.update_time)
        return stored

    def transition(self, new: Membership, previous: Stored | None) -> Any | None:
        """Compare-and-set `new`; its update time, or None when another writer came first."""
        ref = self.client.collection(MEMBERS).document(new.doc_id)
        data = new.model_dump(mode="python")
        try:
            if previous is None:
                result = ref.create(data)
            else:
                option = self.client.write_option(last_update_time=previous.version)
                result = ref.update(data, option=option)
        except (gexc.AlreadyExists, gexc.FailedPrecondition, gexc.NotFound):
            return None
        return result.update_time

    def mark_announced(self, membership: Membership, version: Any) -> None:
        """Mark the change published, unless the membership changed again since."""
        ref = self.client.collection(MEMBERS).document(membership.doc_id)
        # When a newer change owns the document, announcing that one is its writer's job.
        with contextlib.suppress(gexc.FailedPrecondition, gexc.NotFound):
            ref.update(
                {"announced": True}, option=self.client.write_option(last_update_time=version)
            )

    def user_pages(self, page_size: int) -> Iterator[list[str]]:
        """Every profile's user id, `page_size` at a time in id order (one query per page, so
        no stream stays open while the caller works on a page)."""
        query = (
            self.client.collection(PROFILES)
            .select([])
            .order_by(FieldPath.document_id())
            .limit(page_size)
        )
        last = None
        while True:
            page = list((query.start_after(last) if last is not None else query).stream())
            if not page:
                return
            yield [snapshot.id for snapshot in page]
            last = page[-1]

    def forget_days(self, user_id: str, days: Sequence[str]) -> None:
        """Delete the per-day buckets `days` from the user's profile."""
        ref = self.client.collection(PROFILES).document(user_id)
        ref.update({FieldPath("daily", day).to_api_repr(): firestore.DELETE_FIELD for day in days})

    def members(self, segment: str) -> list[str]:
        """The ids of the users now in `segment`, sorted."""
        query = (
            self.client.collection(MEMBERS)
            .where(filter=firestore.FieldFilter("segment", "==", segment))
            .select(["user_id", "member"])
        )
        return sorted(
            str(data["user_id"])
            for data in (s.to_dict() or {} for s in query.stream())
            if data.get("member")
        )


def _facts_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "traits": data.get("traits") or {},
        "counters": data.get("counters") or {},
        "daily": data.get("daily") or {},
    }
