"""Reading Pub/Sub in tests: a tap subscription that sees only what is published after it."""

from __future__ import annotations

import time
import uuid

from google.cloud import pubsub_v1
from google.pubsub_v1 import types as pubsub_types


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
