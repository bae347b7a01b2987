"""Accept tracked events: count them against the key's daily quota, then publish them.

All or nothing: a request's events are either all published (202) or none are (4xx/5xx).
The quota is counted per source and UTC day; a request that would go over it is answered
429 with Retry-After set to the seconds left until 00:00 UTC. Duplicated events (a re-sent
message id) count against the quota like any other, as they do at Segment; the profiles
function, not this one, drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from shared.core.errors import TooManyRequestsError
from shared.core.messages import TrackingEvents
from shared.core.ports import Bus
from shared.core.topology import EVENTS_TOPIC
from shared.tracking.keys import TrackingKey
from shared.tracking.models import IdentifyBody, TrackBody, accept_item


class QuotaCounter(Protocol):
    """Events counted per source and day."""

    def reserve(self, source: str, day: date, count: int, limit: int) -> bool:
        """Count `count` more events unless that takes the day's total over `limit`."""
        ...

    def release(self, source: str, day: date, count: int) -> None:
        """Give back events reserved for a request that then failed."""
        ...


@dataclass(frozen=True)
class Accepted:
    """What a request got published."""

    accepted: int
    message_ids: list[str]


def accept_events(
    items: Sequence[TrackBody | IdentifyBody],
    key: TrackingKey,
    *,
    quota: QuotaCounter,
    bus: Bus,
    clock: Callable[[], datetime],
) -> Accepted:
    """Publish the request's events on the `events` topic, within the key's daily quota."""
    now = clock()
    events = [accept_item(item, key.source, now) for item in items]
    day = now.date()
    if not quota.reserve(key.source, day, len(events), key.daily_quota):
        raise TooManyRequestsError(
            f"the daily quota of {key.daily_quota} events of {key.source!r} ({key.tier} tier) "
            f"leaves no room for {len(events)} more today; it resets at 00:00 UTC",
            retry_after_s=seconds_until_next_day(now),
        )
    try:
        bus.publish(EVENTS_TOPIC, TrackingEvents(source=key.source, events=events))
    except BaseException:
        # Not published, so not counted: the client may send the same events again.
        quota.release(key.source, day, len(events))
        raise
    return Accepted(len(events), [e.message_id for e in events])


def seconds_until_next_day(now: datetime) -> int:
    """Whole seconds (at least 1) from `now` to the next 00:00 in now's zone (UTC here)."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    return max(1, int((midnight - now).total_seconds() + 0.999))
