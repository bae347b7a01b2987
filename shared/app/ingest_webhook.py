"""Use case: a verified platform webhook becomes stored messages handed to the support agent.

Everything is parsed before anything is written, so a bad payload stores and publishes
nothing. A redelivered webhook finds its message's inbound record and publishes nothing new,
unless the earlier delivery stored it but failed to publish (then it publishes again; the
support agent's effect records keep the reply single).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.core.messages import BillingEvent, SupportMessage
from shared.core.ports import Bus, ConversationStore, Store
from shared.core.topology import BILLING_EVENTS_TOPIC, SUPPORT_MESSAGES_TOPIC
from shared.support.inbound import parse_inbound, parse_stripe_event


@dataclass(frozen=True)
class WebhookOutcome:
    """How many messages a webhook delivery carried that were new, and how many were repeats."""

    accepted: int
    duplicates: int


def ingest_support_webhook(
    platform: str,
    payload: Any,
    *,
    conversations: ConversationStore,
    bus: Bus,
    clock: Callable[[], datetime],
) -> WebhookOutcome:
    """Parse every message, store each once, publish the new ones to the support agent."""
    messages = parse_inbound(platform, payload)
    accepted = duplicates = 0
    for message in messages:
        record = conversations.record_inbound(message, clock())
        if record.published:
            duplicates += 1
            continue
        bus.publish(SUPPORT_MESSAGES_TOPIC, SupportMessage(inbound=message))
        conversations.mark_inbound_published(record.record_id)
        accepted += 1
    return WebhookOutcome(accepted=accepted, duplicates=duplicates)


def ingest_stripe_webhook(
    payload: Any, *, store: Store, bus: Bus, clock: Callable[[], datetime]
) -> WebhookOutcome:
    """Store a Stripe event once and publish it for the workflows.

    The event is marked published only after the bus has it, so a publish that fails
    (the webhook answers 5xx and Stripe redelivers) is published on the redelivery. A
    publish that succeeded but whose mark was lost is published twice; the billing
    workflow's run id comes from the event id, so the second start changes nothing.
    """
    event = parse_stripe_event(payload)
    if not store.record_stripe_event(event, clock()):
        return WebhookOutcome(accepted=0, duplicates=1)
    bus.publish(BILLING_EVENTS_TOPIC, BillingEvent(event=event))
    store.mark_stripe_event_published(event.id)
    return WebhookOutcome(accepted=1, duplicates=0)
