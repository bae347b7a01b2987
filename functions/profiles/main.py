"""profiles: keeps each user's profile from the events the tracking API accepted.

Pushed by its subscription to the `events` topic; one message holds one request's events.
Returning acknowledges; raising (a transient Firestore failure) asks for redelivery, which
is safe because an event already applied is skipped.
"""

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_tracking_events


@functions_framework.cloud_event
def on_events(event: CloudEvent) -> None:
    """Apply the message's events to their profiles, each at most once."""
    handle_tracking_events(event)
