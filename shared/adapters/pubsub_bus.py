"""The Bus port on Pub/Sub (the emulator locally through PUBSUB_EMULATOR_HOST).

Each publish is a producer span whose W3C trace context travels in the message's
`traceparent` attribute, so the consuming function continues the same trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from shared.core.models import Message
from shared.core.tracing import inject, span

if TYPE_CHECKING:
    from google.cloud import pubsub_v1

PUBLISH_TIMEOUT_S = 30.0
# The client holds a message up to max_latency hoping to batch it with others (10 ms by
# default). Every publish here is awaited, so a lone message would wait the whole delay;
# many at once go through publish_many and still share batches.
MAX_BATCH_LATENCY_S = 0.001


class PubSubBus:
    """Publishes JSON messages with routing attributes using the official client."""

    def __init__(self, project_id: str, client: pubsub_v1.PublisherClient | None = None) -> None:
        self.project_id = project_id
        self._client = client

    @cached_property
    def client(self) -> pubsub_v1.PublisherClient:
        """The publisher client, created on first use (the library too: a function that never
        publishes, like the status page answering a GET, does not pay its 70 ms import)."""
        if self._client is not None:
            return self._client
        from google.cloud import pubsub_v1

        settings = pubsub_v1.types.BatchSettings(max_latency=MAX_BATCH_LATENCY_S)
        return pubsub_v1.PublisherClient(batch_settings=settings)

    def publish(self, topic: str, message: Message, **attributes: str) -> str:
        """Publish a message; returns the message id once Pub/Sub has stored it."""
        data = message.model_dump_json().encode()
        return self.publish_raw(topic, data, {**message.attributes(), **attributes})

    def publish_many(self, topic: str, messages: Sequence[Message]) -> list[str]:
        """Publish messages together (in shared batches); returns their ids once all are stored."""
        path = self.client.topic_path(self.project_id, topic)
        with _publish_span(topic, len(messages)):
            futures = [
                self.client.publish(path, m.model_dump_json().encode(), **inject(m.attributes()))
                for m in messages
            ]
            return [str(f.result(timeout=PUBLISH_TIMEOUT_S)) for f in futures]

    def publish_raw(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        """Publish bytes as they are and wait for the broker's acknowledgement."""
        with _publish_span(topic, 1) as current:
            future = self.client.publish(
                self.client.topic_path(self.project_id, topic), data, **inject(attributes)
            )
            message_id: str = future.result(timeout=PUBLISH_TIMEOUT_S)
            current.set_attribute("messaging.message.id", message_id)
            return message_id


def _publish_span(topic: str, count: int) -> Any:
    return span(
        f"publish {topic}",
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "gcp_pubsub",
            "messaging.destination.name": topic,
            "messaging.batch.message_count": count,
        },
    )
