"""Helpers shared by the test tiers: waiting on conditions and reading Pub/Sub."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from google.cloud import pubsub_v1
from google.pubsub_v1 import types as pubsub_types

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.core.documents import TicketDoc
from shared.core.effects import support_run_id

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | None], timeout_s: float, what: str, interval_s: float = 0.1
) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


class TopicTap:
    """A fresh pull subscription on a topic, so a test sees only what is published after it."""

    def __init__(self, project: str, topic: str) -> None:
        self.subscriber = pubsub_v1.SubscriberClient()
        self.path = self.subscriber.subscription_path(
            project, f"tap-{topic}-{uuid.uuid4().hex[:8]}"
        )
        self.subscriber.create_subscription(
            request={"name": self.path, "topic": f"projects/{project}/topics/{topic}"}
        )

    def pull(self, expected: int, timeout_s: float = 10.0) -> list[pubsub_types.PubsubMessage]:
        """Pull (and ack) until `expected` messages arrived or the deadline passed."""
        messages: list[pubsub_types.PubsubMessage] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < expected and time.monotonic() < deadline:
            remaining = max(0.5, deadline - time.monotonic())
            try:
                response = self.subscriber.pull(
                    request={"subscription": self.path, "max_messages": 100},
                    timeout=min(remaining, 5.0),
                )
            except Exception as exc:
                if "Deadline" in type(exc).__name__:
                    continue
                raise
            if response.received_messages:
                self.subscriber.acknowledge(
                    request={
                        "subscription": self.path,
                        "ack_ids": [m.ack_id for m in response.received_messages],
                    }
                )
                messages.extend(m.message for m in response.received_messages)
        return messages

    def pull_now(self) -> list[pubsub_types.PubsubMessage]:
        """Whatever is waiting right now (one short pull)."""
        try:
            response = self.subscriber.pull(
                request={
                    "subscription": self.path,
                    "max_messages": 100,
                    "return_immediately": True,
                },
                timeout=2.0,
            )
        except Exception:
            return []
        if response.received_messages:
            self.subscriber.acknowledge(
                request={
                    "subscription": self.path,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
        return [m.message for m in response.received_messages]

    def close(self) -> None:
        """Delete the tap subscription."""
        self.subscriber.delete_subscription(request={"subscription": self.path})
        self.subscriber.close()


def open_ticket(store: FirestoreConversations, ticket: TicketDoc, now: datetime) -> None:
    """Seed an escalation the way the support agent makes one: its effect record, then the
    batch that writes the ticket and marks the record done."""
    run_id = support_run_id(ticket.message_id)
    store.begin_effect(run_id, "ticket", now)
    store.escalate(run_id, ticket, now)
