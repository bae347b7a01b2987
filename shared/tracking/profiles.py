"""Apply accepted events to profiles, each event at most once (the `profiles` function).

Redelivery is safe at every point: an event whose record exists is skipped, so a message
that failed half-way (some events applied) is redelivered whole and only the rest apply.
How the Firestore adapter keeps this without a hot document: shared/tracking/firestore.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.core.messages import TrackedEvent, TrackingEvents


class ProfileWriter(Protocol):
    """Where profiles live."""

    def apply(self, event: TrackedEvent) -> bool:
        """Apply one event; False when it had been applied already (changing nothing)."""
        ...


@dataclass(frozen=True)
class Applied:
    """What one message changed."""

    applied: int
    duplicates: int


def apply_tracking_events(message: TrackingEvents, profiles: ProfileWriter) -> Applied:
    """Apply each event of the message to its profile; a duplicate changes nothing."""
    applied = sum(1 for event in message.events if profiles.apply(event))
    return Applied(applied, len(message.events) - applied)
