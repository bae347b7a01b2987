"""Decoding Eventarc's Pub/Sub deliveries and validating their payloads."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from shared.core.envelope import Delivery, delivery_from_cloud_event, message_type_of, parse_message
from shared.core.errors import InvalidMessageError
from shared.core.messages import AgentTask, RunRequest, TaskResult

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"


def eventarc_payload() -> dict[str, Any]:
    """A messagePublished CloudEvent's data, in the shape Eventarc POSTs it."""
    payload: dict[str, Any] = json.loads((PAYLOADS / "eventarc_agent_task.json").read_text())
    return payload


def delivery_of(body: object, **attributes: str) -> Delivery:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Delivery(message_id="m-1", data=data, attributes=attributes)


# --- delivery_from_cloud_event ----------------------------------------------------------


def test_eventarc_payload_decodes_into_a_delivery() -> None:
    payload = eventarc_payload()

    delivery = delivery_from_cloud_event("event-id-unused", payload)

    assert delivery.message_id == "2070443601311540"
    assert json.loads(delivery.data)["task_id"] == "task-finance"
    assert delivery.attributes == {
        "kind": "agent_task",
        "schema_version": "1",
        "run_id": "run-20261116-weekly",
        "task_id": "task-finance",
    }
    assert delivery.publish_time == "2026-11-16T08:00:01.749Z"
    assert delivery.subscription == "projects/controlroom-demo/subscriptions/agent-finance"
    assert delivery.delivery_attempt == 3
    assert delivery.dead_lettered_from is None
    assert delivery.dead_letter_attempts is None


def test_eventarc_payload_parses_as_its_message_kind() -> None:
    delivery = delivery_from_cloud_event("event-id-unused", eventarc_payload())

    task = parse_message(delivery, AgentTask)

    assert message_type_of(delivery) is AgentTask
    assert (task.run_id, task.task_id, task.agent, task.workflow) == (
        "run-20261116-weekly",
        "task-finance",
        "finance",
        "weekly_gtm",
    )


def test_event_id_stands_in_when_the_message_has_no_id() -> None:
    payload = eventarc_payload()
    del payload["message"]["messageId"]
    del payload["message"]["message_id"]

    delivery = delivery_from_cloud_event("event-42", payload)

    assert delivery.message_id == "event-42"


def test_snake_case_message_id_is_read_too() -> None:
    payload = eventarc_payload()
    del payload["message"]["messageId"]

    delivery = delivery_from_cloud_event("event-42", payload)

    assert delivery.message_id == "2070443601311540"


def test_missing_delivery_attempt_and_attributes_are_tolerated() -> None:
    payload = eventarc_payload()
    del payload["deliveryAttempt"]
    del payload["message"]["attributes"]

    delivery = delivery_from_cloud_event("e", payload)

    assert delivery.delivery_attempt is None
    assert delivery.attributes == {}


def test_string_delivery_attempt_is_read_as_a_number() -> None:
    payload = {**eventarc_payload(), "deliveryAttempt": "4"}

    delivery = delivery_from_cloud_event("e", payload)

    assert delivery.delivery_attempt == 4


@pytest.mark.parametrize(
    "data",
    [None, "not an object", [], {}, {"message": "eyJ9"}, {"message": None}],
    ids=["none", "string", "list", "no-message", "message-string", "message-null"],
)
def test_data_without_a_message_object_is_invalid(data: object) -> None:
    with pytest.raises(InvalidMessageError, match="no 'message' object"):
        delivery_from_cloud_event("e", data)


@pytest.mark.parametrize("encoded", ["!!!!", "abc", 12345], ids=["alphabet", "padding", "int"])
def test_bad_base64_data_is_invalid(encoded: object) -> None:
    payload = eventarc_payload()
    payload["message"]["data"] = encoded

    with pytest.raises(InvalidMessageError, match="not valid base64"):
        delivery_from_cloud_event("e", payload)


def test_non_ascii_data_is_invalid_base64() -> None:
    # b64decode raises a plain ValueError, not binascii.Error, for non-ASCII text; callers
    # rely on InvalidMessageError to tell a poison message from a transient failure.
    payload = eventarc_payload()
    payload["message"]["data"] = "données"

    with pytest.raises(InvalidMessageError, match="not valid base64"):
        delivery_from_cloud_event("e", payload)


@pytest.mark.parametrize("attributes", [["kind", "agent_task"], "kind=agent_task", 7])
def test_attributes_that_are_not_an_object_are_invalid(attributes: object) -> None:
    payload = eventarc_payload()
    payload["message"]["attributes"] = attributes

    with pytest.raises(InvalidMessageError, match="attributes must be an object"):
        delivery_from_cloud_event("e", payload)


# --- dead-letter attributes -------------------------------------------------------------


def test_dead_letter_attributes_name_the_source_and_attempts() -> None:
    payload = eventarc_payload()
    payload["message"]["attributes"].update(
        {
            "CloudPubSubDeadLetterSourceSubscription": "agent-finance",
            "CloudPubSubDeadLetterSourceSubscriptionProject": "controlroom-demo",
            "CloudPubSubDeadLetterSourceTopicPublishTime": "2026-11-16T08:00:01.749Z",
            "CloudPubSubDeadLetterSourceDeliveryCount": "5",
        }
    )

    delivery = delivery_from_cloud_event("e", payload)

    assert delivery.dead_lettered_from == "agent-finance"
    assert delivery.dead_letter_attempts == 5


def test_unreadable_dead_letter_count_is_none() -> None:
    delivery = Delivery(
        message_id="m",
        data=b"{}",
        attributes={"CloudPubSubDeadLetterSourceDeliveryCount": "five"},
    )

    attempts = delivery.dead_letter_attempts

    assert attempts is None


# --- parse_message ----------------------------------------------------------------------


def test_valid_run_request_parses() -> None:
    delivery = delivery_of({"workflow": "weekly_gtm", "trigger": "schedule"}, kind="run_request")

    request = parse_message(delivery, RunRequest)

    assert request == RunRequest(workflow="weekly_gtm", trigger="schedule")


def test_payload_without_kind_attribute_parses_as_expected_type() -> None:
    delivery = delivery_of({"workflow": "weekly_gtm"})

    request = parse_message(delivery, RunRequest)

    assert request.workflow == "weekly_gtm"


def test_wrong_kind_attribute_is_invalid() -> None:
    delivery = delivery_of({"workflow": "weekly_gtm"}, kind="task_result")

    with pytest.raises(
        InvalidMessageError, match="expected a 'run_request' message, got kind 'task_result'"
    ):
        parse_message(delivery, RunRequest)


@pytest.mark.parametrize("raw", [b"not json", b'{"workflow": ', b"\xff\xfe"])
def test_non_json_payload_is_invalid(raw: bytes) -> None:
    delivery = delivery_of(raw, kind="run_request")

    with pytest.raises(InvalidMessageError, match="payload is not JSON"):
        parse_message(delivery, RunRequest)


@pytest.mark.parametrize("body", [[{"workflow": "weekly_gtm"}], "weekly_gtm", 3, None])
def test_json_that_is_not_an_object_is_invalid(body: object) -> None:
    delivery = delivery_of(body, kind="run_request")

    with pytest.raises(InvalidMessageError, match="payload must be a JSON object"):
        parse_message(delivery, RunRequest)


def test_schema_error_names_the_missing_field() -> None:
    delivery = delivery_of({"trigger": "api"}, kind="run_request")

    with pytest.raises(InvalidMessageError) as caught:
        parse_message(delivery, RunRequest)

    assert str(caught.value) == "workflow: Field required"


def test_schema_error_names_every_failing_field() -> None:
    body = {"run_id": "r", "task_id": "t", "agent": "finance", "status": "done", "extra": 1}
    delivery = delivery_of(body, kind="task_result")

    with pytest.raises(InvalidMessageError) as caught:
        parse_message(delivery, TaskResult)

    message = str(caught.value)
    assert "status: Input should be 'succeeded' or 'failed'" in message
    assert "extra: Extra inputs are not permitted" in message


def test_schema_error_names_nested_fields() -> None:
    delivery = delivery_of({"workflow": "weekly_gtm", "params": []}, kind="run_request")

    with pytest.raises(InvalidMessageError, match=r"^params: Input should be a valid dictionary"):
        parse_message(delivery, RunRequest)


def test_unknown_kind_has_no_message_type() -> None:
    delivery = delivery_of({}, kind="mystery")

    message_type = message_type_of(delivery)

    assert message_type is None


def test_payload_round_trips_through_base64() -> None:
    task = AgentTask(run_id="run-1", task_id="t-1", agent="support", workflow="weekly_gtm")
    data = {
        "message": {
            "data": base64.b64encode(task.model_dump_json().encode()).decode(),
            "attributes": task.attributes(),
            "messageId": "1",
        }
    }

    parsed = parse_message(delivery_from_cloud_event("e", data), AgentTask)

    assert parsed == task
