"""The dispatcher POSTs each pulled message as the binary-mode CloudEvent Eventarc would."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from google.pubsub_v1 import types as pubsub_types

from emulators.dispatcher import cloud_event_request
from shared.core.envelope import delivery_from_cloud_event, parse_message
from shared.core.messages import AgentTask
from shared.core.topology import TOPOLOGY

TASK = AgentTask(run_id="run-20261116", task_id="task-finance", agent="finance", workflow="w")
SUBSCRIPTION = TOPOLOGY.subscription("agent-finance")


def received(delivery_attempt: int = 3) -> pubsub_types.ReceivedMessage:
    return pubsub_types.ReceivedMessage(
        ack_id="ack-1",
        delivery_attempt=delivery_attempt,
        message=pubsub_types.PubsubMessage(
            data=TASK.model_dump_json().encode(),
            attributes=TASK.attributes(),
            message_id="1234567890",
            publish_time=datetime(2026, 11, 16, 8, 0, 1, 250000, tzinfo=UTC),
        ),
    )


def test_headers_describe_a_message_published_event() -> None:
    headers, _ = cloud_event_request("P", SUBSCRIPTION, received())

    assert headers == {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": "//pubsub.googleapis.com/projects/P/topics/agent-finance",
        "ce-id": "1234567890",
        "ce-time": "2026-11-16T08:00:01.250000Z",
    }


def test_body_carries_the_message_as_eventarc_does() -> None:
    _, body = cloud_event_request("P", SUBSCRIPTION, received())

    document = json.loads(body)
    assert document == {
        "message": {
            "data": base64.b64encode(TASK.model_dump_json().encode()).decode(),
            "attributes": TASK.attributes(),
            "messageId": "1234567890",
            "publishTime": "2026-11-16T08:00:01.250000Z",
        },
        "subscription": "projects/P/subscriptions/agent-finance",
        "deliveryAttempt": 3,
    }


def test_missing_delivery_attempt_counts_as_the_first() -> None:
    _, body = cloud_event_request("P", SUBSCRIPTION, received(delivery_attempt=0))

    document = json.loads(body)
    assert document["deliveryAttempt"] == 1


def test_body_decodes_back_to_the_same_message() -> None:
    message = received()
    headers, body = cloud_event_request("P", SUBSCRIPTION, message)

    delivery = delivery_from_cloud_event(headers["ce-id"], json.loads(body))

    assert delivery.data == message.message.data
    assert delivery.attributes == dict(message.message.attributes)
    assert delivery.delivery_attempt == 3
    assert delivery.message_id == "1234567890"
    assert delivery.subscription == "projects/P/subscriptions/agent-finance"
    assert parse_message(delivery, AgentTask) == TASK
