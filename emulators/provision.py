"""Create the topology's topics and subscriptions in the Pub/Sub emulator."""

from __future__ import annotations

import contextlib

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.protobuf import duration_pb2, timestamp_pb2

from shared.core.topology import Subscription, Topology


def subscription_request(project: str, sub: Subscription) -> dict[str, object]:
    """The CreateSubscription request for one declared subscription (pull: the dispatcher reads)."""
    request: dict[str, object] = {
        "name": f"projects/{project}/subscriptions/{sub.name}",
        "topic": f"projects/{project}/topics/{sub.topic}",
        "ack_deadline_seconds": sub.ack_deadline_s,
        "retry_policy": {
            "minimum_backoff": duration_pb2.Duration(seconds=sub.retry.minimum_backoff_s),
            "maximum_backoff": duration_pb2.Duration(seconds=sub.retry.maximum_backoff_s),
        },
        "message_retention_duration": duration_pb2.Duration(seconds=sub.retain_days * 86400),
    }
    if sub.filter:
        request["filter"] = sub.filter
    if sub.dead_letter_topic:
        request["dead_letter_policy"] = {
            "dead_letter_topic": f"projects/{project}/topics/{sub.dead_letter_topic}",
            "max_delivery_attempts": sub.max_delivery_attempts,
        }
    return request


def provision_pubsub(project: str, topology: Topology) -> None:
    """Create every topic and subscription; existing ones are left as they are."""
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    try:
        for topic in topology.topics:
            with contextlib.suppress(gexc.AlreadyExists):
                publisher.create_topic(name=publisher.topic_path(project, topic.name))
        for sub in topology.subscriptions:
            with contextlib.suppress(gexc.AlreadyExists):
                subscriber.create_subscription(request=subscription_request(project, sub))
    finally:
        subscriber.close()


def purge_subscriptions(project: str, topology: Topology) -> None:
    """Drop every message waiting on the topology's subscriptions (seek to now), between tests."""
    subscriber = pubsub_v1.SubscriberClient()
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    try:
        for sub in topology.subscriptions:
            path = subscriber.subscription_path(project, sub.name)
            subscriber.seek(request={"subscription": path, "time": now})
    finally:
        subscriber.close()
