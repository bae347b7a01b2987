"""Shared behaviour of every Pub/Sub-triggered function: decode, route, dead-letter."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from opentelemetry.trace import Span, SpanKind

from shared.app.timeline import run_event
from shared.core.envelope import Delivery, delivery_from_cloud_event
from shared.core.errors import InvalidMessageError, PermanentError
from shared.core.log import log_context
from shared.core.ports import Bus, Store
from shared.core.topology import DEAD_LETTERS_TOPIC
from shared.core.tracing import extract, mark_failed, span

logger = logging.getLogger(__name__)


def consume(
    event_id: str,
    event_data: Any,
    handle: Callable[[Delivery], object],
    *,
    consumer: str,
    store: Store,
    bus: Bus,
    clock: Callable[[], datetime],
) -> None:
    """Run `handle`; a permanent failure is recorded and dead-lettered, anything else raises.

    Returning acks the message; raising makes Pub/Sub redeliver it with backoff.
    """
    try:
        delivery = delivery_from_cloud_event(event_id, event_data)
    except InvalidMessageError as exc:
        # Keep what arrived, whatever its shape, so a person can see what was sent.
        raw = Delivery(message_id=event_id, data=json.dumps(event_data, default=str).encode())
        dead_letter(
            raw, f"undecodable event: {exc}", consumer=consumer, store=store, bus=bus, clock=clock
        )
        return
    run_id = delivery.attributes.get("run_id")
    task_id = delivery.attributes.get("task_id")
    with (
        consumer_span(consumer, delivery) as current,
        log_context(run_id=run_id, task_id=task_id, message_id=delivery.message_id),
    ):
        try:
            handle(delivery)
        except PermanentError as exc:
            mark_failed(current, exc)
            dead_letter(delivery, str(exc), consumer=consumer, store=store, bus=bus, clock=clock)


def consumer_span(consumer: str, delivery: Delivery) -> AbstractContextManager[Span]:
    """The span of handling one delivery, a child of the span that published it."""
    parent = extract({"traceparent": delivery.traceparent}) if delivery.traceparent else None
    return span(
        f"{consumer} process",
        kind=SpanKind.CONSUMER,
        parent=parent,
        attributes={
            "messaging.system": "gcp_pubsub",
            "messaging.message.id": delivery.message_id,
            "messaging.gcp_pubsub.message.delivery_attempt": delivery.delivery_attempt,
            "controlroom.consumer": consumer,
            "controlroom.kind": delivery.attributes.get("kind"),
            "controlroom.run_id": delivery.attributes.get("run_id"),
            "controlroom.task_id": delivery.attributes.get("task_id"),
        },
    )


def dead_letter(
    delivery: Delivery,
    reason: str,
    *,
    consumer: str,
    store: Store,
    bus: Bus,
    clock: Callable[[], datetime],
) -> None:
    """Record why a message can never succeed, then park it on the dead-letter topic."""
    logger.error("rejecting message %s: %s", delivery.message_id, reason)
    run_id = delivery.attributes.get("run_id")
    if run_id and store.get_run(run_id) is not None:
        store.append_event(
            run_event(
                run_id,
                "message.rejected",
                f"{consumer} rejected message {delivery.message_id}: {reason}",
                clock(),
                task_id=delivery.attributes.get("task_id"),
                discriminator=delivery.message_id,
            )
        )
    attributes = {
        **delivery.attributes,
        "rejected_by": consumer,
        # Pub/Sub takes at most 1024 bytes per attribute value (the emulator does not check).
        "reason": reason.encode()[:1000].decode(errors="ignore"),
        "original_message_id": delivery.message_id,
    }
    bus.publish_raw(DEAD_LETTERS_TOPIC, delivery.data, attributes)
