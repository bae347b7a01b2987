"""profiles: keeps each user's profile from the events the tracking API accepted.

Pushed by its subscription to the `events` topic; one message holds one request's events.
Returning acknowledges; raising (a transient Firestore failure) asks for redelivery, which
is safe because an event already applied is skipped.
"""

import logging

import functions_framework
from cloudevents.http import CloudEvent

from shared.core.envelope import Delivery, parse_message
from shared.core.messages import TrackingEvents
from shared.core.models import utcnow
from shared.tracking.membership import update_segments
from shared.tracking.profiles import apply_tracking_events
from shared.wiring.functions import consume_event
from shared.wiring.services import services
from shared.wiring.tracking import profiles, segment_catalog, segments

logger = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_events(event: CloudEvent) -> None:
    """Apply the message's events to their profiles, each at most once, then re-evaluate
    those users' segments (publishing who entered or left)."""
    consume_event(event, "profiles", _apply)


def _apply(delivery: Delivery) -> None:
    message = parse_message(delivery, TrackingEvents)
    outcome = apply_tracking_events(message, profiles())
    # Also on a duplicate: a change written but not yet announced is announced again.
    users = {e.user_id for e in message.events if e.user_id is not None}
    changed = update_segments(
        users, catalog=segment_catalog(), store=segments(), bus=services().bus, clock=utcnow
    )
    logger.info(
        "events from %s: %d applied, %d duplicate(s); segments: %s",
        message.source,
        outcome.applied,
        outcome.duplicates,
        changed.summary(),
    )
