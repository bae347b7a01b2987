"""Properties of decoding Pub/Sub deliveries (shared/core/envelope.py): whatever CloudEvent data,
bytes and attributes arrive, decoding gives a well-typed Delivery and a valid message, or an
InvalidMessageError (recorded and dead-lettered), never another exception (which would make
Pub/Sub redeliver the same poison message until its attempts run out)."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.core.envelope import Delivery, delivery_from_cloud_event, message_type_of, parse_message
from shared.core.errors import InvalidMessageError
from shared.core.messages import MESSAGE_TYPES, AgentTask
from shared.core.models import Message
from tests.helpers.fuzzing import (
    PAYLOADS,
    fuzz_settings,
    json_bytes,
    json_documents,
    json_values,
    mutated,
)

EVENTARC = json.loads((PAYLOADS / "eventarc_agent_task.json").read_text())
AGENT_TASK = json.loads(base64.b64decode(EVENTARC["message"]["data"]))
MESSAGE_CLASSES: list[type[Message]] = list(MESSAGE_TYPES.values())

attribute_maps = st.dictionaries(
    st.sampled_from(
        [
            "kind",
            "schema_version",
            "run_id",
            "task_id",
            "CloudPubSubDeadLetterSourceSubscription",
            "CloudPubSubDeadLetterSourceDeliveryCount",
        ]
    )
    | st.text(max_size=10),
    st.sampled_from([*MESSAGE_TYPES, "", "0", "5", "²", "٣", "-1", "1e3"]) | st.text(max_size=20),
    max_size=6,
)


def delivery_or_rejection(event_id: str, data: Any) -> Delivery | None:
    try:
        delivery = delivery_from_cloud_event(event_id, data)
    except InvalidMessageError as exc:
        assert str(exc)
        return None
    assert isinstance(delivery.message_id, str) and delivery.message_id
    assert isinstance(delivery.data, bytes)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in delivery.attributes.items())
    assert delivery.publish_time is None or isinstance(delivery.publish_time, str)
    assert delivery.subscription is None or isinstance(delivery.subscription, str)
    assert delivery.delivery_attempt is None or isinstance(delivery.delivery_attempt, int)
    # What the dead-letter handler reads from the attributes never raises either.
    attempts = delivery.dead_letter_attempts
    assert attempts is None or isinstance(attempts, int)
    source = delivery.dead_lettered_from
    assert source is None or isinstance(source, str)
    return delivery


def message_or_rejection(delivery: Delivery, expected: type[Message]) -> Message | None:
    try:
        message = parse_message(delivery, expected)
    except InvalidMessageError as exc:
        assert str(exc)
        return None
    assert isinstance(message, expected)
    assert type(message).model_validate_json(message.model_dump_json()) == message
    return message


@fuzz_settings(300)
@given(event_id=st.text(min_size=1, max_size=20), data=json_values)
def test_any_cloud_event_data_decodes_or_is_rejected(event_id: str, data: Any) -> None:
    delivery_or_rejection(event_id, data)


@fuzz_settings(300)
@given(data=mutated(EVENTARC))
def test_near_valid_eventarc_data_decodes_or_is_rejected(data: Any) -> None:
    delivery_or_rejection("event-1", data)


@fuzz_settings(200)
@given(
    payload=st.binary(max_size=200),
    attributes=attribute_maps,
    attempt=json_values | st.sampled_from(["²", "٣", "7", 7, True]),
)
def test_any_bytes_and_attributes_round_trip_through_the_envelope(
    payload: bytes, attributes: dict[str, str], attempt: Any
) -> None:
    data = {
        **EVENTARC,
        "message": {**EVENTARC["message"], "data": base64.b64encode(payload).decode()},
        "deliveryAttempt": attempt,
    }
    data["message"]["attributes"] = attributes

    delivery = delivery_or_rejection("event-1", data)

    assert delivery is not None
    assert delivery.data == payload
    assert delivery.attributes == attributes


@fuzz_settings(300)
@given(
    payload=json_documents,
    attributes=attribute_maps,
    expected=st.sampled_from(MESSAGE_CLASSES),
)
def test_any_payload_is_a_message_or_rejected(
    payload: bytes, attributes: dict[str, str], expected: type[Message]
) -> None:
    delivery = Delivery(message_id="m-1", data=payload, attributes=attributes)
    message_or_rejection(delivery, expected)
    message_type_of(delivery)


@fuzz_settings(300)
@given(body=mutated(AGENT_TASK))
def test_near_valid_agent_tasks_parse_or_are_rejected(body: Any) -> None:
    delivery = Delivery(message_id="m-1", data=json_bytes(body), attributes={"kind": "agent_task"})
    message_or_rejection(delivery, AgentTask)


def test_json_that_python_will_not_load_is_rejected() -> None:
    for payload in (b"[" * 100_000 + b"]" * 100_000, b'{"run_id": ' + b"9" * 5000 + b"}"):
        delivery = Delivery(message_id="m-1", data=payload, attributes={"kind": "agent_task"})
        assert message_or_rejection(delivery, AgentTask) is None


def test_the_documented_delivery_still_decodes() -> None:
    delivery = delivery_or_rejection("event-1", EVENTARC)
    assert delivery is not None and message_or_rejection(delivery, AgentTask) is not None
