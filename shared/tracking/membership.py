"""Segment membership: re-evaluate users, store who is in which segment, announce changes.

Called by the profiles function for the users whose events it just applied, and by the
hourly `segments-refresh` job for every user (the only way a membership that rests on a
time window ends when nobody does anything: windows are measured in days, so an hour's
delay is the price of not scheduling a timer per membership).

One membership document per (segment, user), never a shared one, so no document runs hot.
A change is a compare-and-set on that document (create it, or update it unless it changed
since it was read); a lost race re-reads the profile and tries again, so the stored state is
always the rule applied to a profile read after the last applied event.

Each change is then published on `segment-changes` and marked announced. A crash between
the write and the mark leaves it unannounced, and the next evaluation of that user (the
redelivered message, or the hourly job) publishes it again: changes are announced at least
once, each with a `change_id` derived from (segment, user, entry number, entered|left), which
consumers use to do their work once (the segment-entry subscriber derives its run id from it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.core.errors import RetryableError
from shared.core.messages import SegmentChange
from shared.core.ports import Bus, Clock
from shared.core.topology import SEGMENT_CHANGES_TOPIC
from shared.tracking.segments import ProfileFacts, SegmentCatalog, member_segments, stale_days

MAX_ATTEMPTS = 5


class Membership(BaseModel):
    """segment_members/{segment}:{user_id}: whether the user is in, and how often they entered."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    segment: str
    user_id: str
    member: bool
    entries: int = Field(ge=0)
    changed_at: datetime
    announced: bool = False

    @property
    def doc_id(self) -> str:
        """The membership document's id."""
        return membership_id(self.segment, self.user_id)

    def change(self) -> SegmentChange:
        """The change that led to this state."""
        return SegmentChange(
            segment=self.segment,
            user_id=self.user_id,
            change="entered" if self.member else "left",
            entry=max(1, self.entries),
            at=self.changed_at,
        )


def membership_id(segment: str, user_id: str) -> str:
    """segment_members' document id of one (segment, user)."""
    return f"{segment}:{user_id}"


@dataclass(frozen=True)
class Stored:
    """A membership as read, with the version a compare-and-set checks against."""

    membership: Membership
    version: Any


class SegmentStore(Protocol):
    """Where profiles' facts and memberships are read, and memberships written."""

    def facts(self, user_ids: Sequence[str]) -> dict[str, ProfileFacts]:
        """The facts of each user that has a profile."""
        ...

    def memberships(
        self, user_ids: Sequence[str], segments: Sequence[str]
    ) -> dict[tuple[str, str], Stored]:
        """The stored memberships of these users in these segments, by (segment, user)."""
        ...

    def transition(self, new: Membership, previous: Stored | None) -> Any | None:
        """Write `new` unless the document changed since `previous` was read (None: if it
        exists); the new version, or None when the race was lost."""
        ...

    def mark_announced(self, membership: Membership, version: Any) -> None:
        """Record that the membership's change was published (unless it changed since)."""
        ...

    def user_pages(self, page_size: int) -> Iterator[list[str]]:
        """Every identified user's id, a page at a time."""
        ...

    def forget_days(self, user_id: str, days: Sequence[str]) -> None:
        """Drop per-day buckets no rule can read any more from the user's profile."""
        ...


@dataclass
class SegmentUpdate:
    """What one evaluation changed."""

    users: int = 0
    entered: list[SegmentChange] = field(default_factory=list)
    left: list[SegmentChange] = field(default_factory=list)
    announced_again: int = 0

    def add(self, other: SegmentUpdate) -> None:
        """Fold another update into this one."""
        self.users += other.users
        self.entered += other.entered
        self.left += other.left
        self.announced_again += other.announced_again

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"{self.users} user(s): {len(self.entered)} entered, {len(self.left)} left, "
            f"{self.announced_again} re-announced"
        )


def update_segments(
    user_ids: Iterable[str],
    *,
    catalog: SegmentCatalog,
    store: SegmentStore,
    bus: Bus,
    clock: Clock,
) -> SegmentUpdate:
    """Re-evaluate these users' segments; store and publish every membership change."""
    pending = sorted(set(user_ids))
    update = SegmentUpdate(users=len(pending))
    if not catalog.segments:
        return update
    for _ in range(MAX_ATTEMPTS):
        if not pending:
            return update
        pending = _evaluate(pending, catalog, store, bus, clock, update)
    raise RetryableError(f"segment memberships of {len(pending)} user(s) kept changing under us")


def _evaluate(
    user_ids: list[str],
    catalog: SegmentCatalog,
    store: SegmentStore,
    bus: Bus,
    clock: Clock,
    update: SegmentUpdate,
) -> list[str]:
    """One pass; the users whose compare-and-set lost a race (to evaluate again)."""
    facts = store.facts(user_ids)
    stored = store.memberships(list(facts), catalog.names)
    now = clock()
    lost: list[str] = []
    for user_id, user_facts in facts.items():
        wanted = member_segments(catalog, user_facts, now.date())
        for segment in catalog.names:
            previous = stored.get((segment, user_id))
            is_member = segment in wanted
            old = previous.membership if previous else None
            if old is None and not is_member:
                continue  # never entered: nothing stored, nothing to say
            if old is not None and old.member == is_member:
                if not old.announced:  # written, then the process died before announcing
                    _announce(old, previous.version if previous else None, store, bus)
                    update.announced_again += 1
                continue
            if old is not None and not old.announced:
                _announce(old, None, store, bus)  # the earlier change first, in order
                update.announced_again += 1
            new = Membership(
                segment=segment,
                user_id=user_id,
                member=is_member,
                entries=(old.entries if old else 0) + (1 if is_member else 0),
                changed_at=now,
            )
            version = store.transition(new, previous)
            if version is None:
                lost.append(user_id)
                break
            change = _announce(new, version, store, bus)
            (update.entered if is_member else update.left).append(change)
    return lost


def _announce(membership: Membership, version: Any, store: SegmentStore, bus: Bus) -> SegmentChange:
    change = membership.change()
    bus.publish(SEGMENT_CHANGES_TOPIC, change)
    if version is not None:
        store.mark_announced(membership, version)
    return change


def refresh_all_segments(
    *,
    catalog: SegmentCatalog,
    store: SegmentStore,
    bus: Bus,
    clock: Clock,
    page_size: int = 200,
) -> SegmentUpdate:
    """Re-evaluate every identified user (the scheduled job), pruning unreadable day buckets."""
    total = SegmentUpdate()
    today = clock().date()
    for page in store.user_pages(page_size):
        for user_id, facts in store.facts(page).items():
            old_days = stale_days(facts, today)
            if old_days:
                store.forget_days(user_id, old_days)
        total.add(update_segments(page, catalog=catalog, store=store, bus=bus, clock=clock))
    return total
