"""Fuzzing the supervisor's Pub/Sub functions through functions-framework, on the emulators.

Whatever a message on run-requests, task-results, billing-events or dead-letters holds (any
bytes, any attributes, documented messages with fields mutated), its function acknowledges it
(a 200: no redelivery loop), and a message that can never succeed is parked on the dead-letter
topic once, with its reason, never lost.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.core.envelope import delivery_from_cloud_event, parse_message
from shared.core.errors import InvalidMessageError
from shared.core.messages import RunRequest, TaskResult
from shared.core.topology import DEAD_LETTERS_TOPIC
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client, pubsub_cloud_event
from tests.helpers.fuzzing import fuzz_settings, json_bytes, json_documents, mutated
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration

TARGETS = {
    "on_run_request": RunRequest,
    "on_task_result": TaskResult,
    "on_billing_event": None,  # BillingEvent: its handler validates it
}
VALID = {
    "on_run_request": {"workflow": "weekly_gtm", "trigger": "schedule"},
    "on_task_result": {
        "run_id": "fuzz-run",
        "task_id": "finance",
        "agent": "finance",
        "status": "succeeded",
    },
    "on_billing_event": {
        "event": {
            "id": "evt_1Fuzz",
            "type": "customer.subscription.deleted",
            "created": "2026-11-16T08:00:00Z",
            "customer_id": "cus_fuzz",
            "object_id": "sub_fuzz",
            "is_churn_signal": True,
        }
    },
}
KINDS = {"on_run_request": "run_request", "on_task_result": "task_result"}
KINDS["on_billing_event"] = "billing_event"


@dataclass
class Supervisor:
    clients: dict[str, Any]
    dead_letters: TopicTap
    must_dead_letter: set[str] = field(default_factory=set)  # message ids
    sent: int = 0


@pytest.fixture(scope="module")
def supervisor(emulators: Emulators) -> Iterator[Supervisor]:
    emulators.reset()
    clients = {target: function_client("supervisor", target, "cloudevent") for target in TARGETS}
    tap = TopicTap(emulators.project, DEAD_LETTERS_TOPIC)
    yield Supervisor(clients, tap)
    tap.close()


attributes = st.dictionaries(
    st.sampled_from(["kind", "schema_version", "run_id", "task_id"]) | st.text(max_size=10),
    st.sampled_from(["run_request", "task_result", "agent_task", "billing_event", "1", ""])
    | st.text(max_size=30),
    max_size=5,
)


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, bytes, dict[str, str]]:
    """A target function and a message for it: a documented message with a few fields
    mutated and its kind attribute, or any bytes with any attributes."""
    target = draw(st.sampled_from(sorted(TARGETS)))
    if draw(st.booleans()):
        body = draw(st.just(VALID[target]) | mutated(VALID[target]))
        return target, json_bytes(body), {**draw(attributes), "kind": KINDS[target]}
    return target, draw(json_documents), draw(attributes)


@fuzz_settings(80)
@given(message=messages())
def test_any_message_is_acknowledged_and_a_hopeless_one_is_dead_lettered(
    supervisor: Supervisor, message: tuple[str, bytes, dict[str, str]]
) -> None:
    target, data, attrs = message
    message_id = f"fuzz-{uuid.uuid4().hex[:12]}"
    headers, body = pubsub_cloud_event(data, attrs, message_id)

    response = supervisor.clients[target].post("/", headers=headers, data=body)

    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    supervisor.sent += 1
    expected = TARGETS[target]
    if expected is not None and not _parses(data, attrs, message_id, expected):
        supervisor.must_dead_letter.add(message_id)


def _parses(data: bytes, attrs: dict[str, str], message_id: str, expected: Any) -> bool:
    """Whether the envelope decodes into the message the function expects (if it does not,
    the function can only dead-letter it)."""
    event = {"message": {"data": base64.b64encode(data).decode(), "attributes": attrs}}
    try:
        parse_message(delivery_from_cloud_event(message_id, event), expected)
    except InvalidMessageError:
        return False
    return True


def test_every_hopeless_message_is_on_the_dead_letter_topic_once_with_its_reason(
    supervisor: Supervisor,
) -> None:
    assert supervisor.sent, "the fuzzing test above runs first"
    parked = supervisor.dead_letters.pull(expected=len(supervisor.must_dead_letter), timeout_s=20)
    parked += supervisor.dead_letters.pull(expected=supervisor.sent, timeout_s=0.5)
    originals = [m.attributes["original_message_id"] for m in parked]

    assert len(originals) == len(set(originals)), "a message was dead-lettered twice"
    assert supervisor.must_dead_letter <= set(originals)
    assert all(m.attributes["reason"] and m.attributes["rejected_by"] for m in parked)
    # Pub/Sub's limits on attributes, which the emulator does not enforce.
    for message in parked:
        assert len(message.attributes) <= 100
        assert all(len(value.encode()) <= 1024 for value in message.attributes.values())
    print(
        f"\nsupervisor: {supervisor.sent} messages, {len(parked)} dead-lettered "
        f"({len(supervisor.must_dead_letter)} undecodable)"
    )


def test_a_reason_too_long_for_a_pubsub_attribute_still_dead_letters(
    supervisor: Supervisor,
) -> None:
    """A rejection's reason echoes field names; Pub/Sub takes at most 1024 bytes per
    attribute value, and 1000 characters of other scripts are up to 4000 bytes."""
    body: dict[str, object] = {"workflow": "weekly_gtm", "trigger": "schedule"}
    body |= {f"поле{n:03d}" + "ж" * 20: 1 for n in range(60)}  # each one an unknown field
    message_id = f"fuzz-long-{uuid.uuid4().hex[:8]}"
    headers, event = pubsub_cloud_event(json_bytes(body), {"kind": "run_request"}, message_id)
    tap = TopicTap(supervisor.dead_letters.path.split("/")[1], DEAD_LETTERS_TOPIC)
    try:
        response = supervisor.clients["on_run_request"].post("/", headers=headers, data=event)

        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        [parked] = tap.pull(expected=1, timeout_s=10)
        assert parked.attributes["original_message_id"] == message_id
        assert len(parked.attributes["reason"].encode()) <= 1024
    finally:
        tap.close()
