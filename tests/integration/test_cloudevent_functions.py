"""Supervisor and agent functions fed CloudEvents through functions-framework."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.core.messages import AgentTask
from shared.core.models import RunStatus, TaskStatus, utcnow
from shared.core.topology import DEAD_LETTERS_TOPIC, TASK_RESULTS_TOPIC
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client, pubsub_cloud_event
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration


@pytest.fixture
def dead_letters(emulators: Emulators) -> Iterator[TopicTap]:
    tap = TopicTap(emulators.project, DEAD_LETTERS_TOPIC)
    yield tap
    tap.close()


@pytest.fixture
def results(emulators: Emulators) -> Iterator[TopicTap]:
    tap = TopicTap(emulators.project, TASK_RESULTS_TOPIC)
    yield tap
    tap.close()


def _post(
    source: str, target: str, data: bytes, attributes: dict[str, str], message_id: str
) -> int:
    client = function_client(source, target, "cloudevent")
    headers, body = pubsub_cloud_event(data, attributes, message_id)
    response = client.post("/", headers=headers, data=body)
    return response.status_code


def test_the_whole_run_through_the_real_function_entry_points(
    clean_emulators: Emulators, results: TopicTap
) -> None:
    store = FirestoreStore(clean_emulators.project)
    request = b'{"workflow": "weekly_gtm", "trigger": "manual", "run_id": "run-fn-1"}'

    assert _post("supervisor", "on_run_request", request, {"kind": "run_request"}, "m-1") == 200
    for agent in ("marketing", "finance", "insights", "support"):
        task = AgentTask(run_id="run-fn-1", task_id=agent, agent=agent, workflow="weekly_gtm")
        status = _post(
            f"agents/{agent}",
            "on_task",
            task.model_dump_json().encode(),
            task.attributes(),
            f"t-{agent}",
        )
        assert status == 200
    for message in results.pull(expected=4):
        assert (
            _post(
                "supervisor",
                "on_task_result",
                message.data,
                dict(message.attributes),
                message.message_id,
            )
            == 200
        )

    run = store.get_run("run-fn-1")
    assert run is not None and run.status is RunStatus.SUCCEEDED
    assert all(
        t.status is TaskStatus.SUCCEEDED and t.attempts == 1 for t in store.list_tasks("run-fn-1")
    )


@pytest.mark.parametrize(
    ("source", "target", "data", "attributes", "reason"),
    [
        ("supervisor", "on_run_request", b"{oops", {"kind": "run_request"}, "payload is not JSON"),
        (
            "supervisor",
            "on_run_request",
            b'{"workflow": "nope"}',
            {"kind": "run_request"},
            "unknown workflow 'nope'",
        ),
        (
            "supervisor",
            "on_run_request",
            b'{"workflow": 5}',
            {"kind": "run_request"},
            "workflow: Input should be a valid string",
        ),
        (
            "supervisor",
            "on_run_request",
            b'{"workflow": "weekly_gtm", "trigger": "schedule", "params": {"window_days": "7d"}}',
            {"kind": "run_request"},
            "(weekly_gtm, from schedule) refused: params.window_days: Input should be a valid "
            "integer",
        ),
        (
            "supervisor",
            "on_task_result",
            b"{}",
            {"kind": "surprise"},
            "unexpected message kind 'surprise'",
        ),
        (
            "agents/finance",
            "on_task",
            b'{"run_id": "r"}',
            {"kind": "agent_task"},
            "task_id: Field required",
        ),
    ],
)
def test_a_message_that_can_never_succeed_is_dead_lettered_with_its_reason(
    clean_emulators: Emulators,
    dead_letters: TopicTap,
    source: str,
    target: str,
    data: bytes,
    attributes: dict[str, str],
    reason: str,
) -> None:
    status = _post(source, target, data, attributes, "bad-1")

    assert status == 200  # acked: retrying cannot help
    [parked] = dead_letters.pull(expected=1)
    assert parked.data == data
    assert reason in parked.attributes["reason"]
    assert parked.attributes["original_message_id"] == "bad-1"


def test_a_rejected_message_of_a_known_run_is_on_its_timeline(
    clean_emulators: Emulators, dead_letters: TopicTap
) -> None:
    store = FirestoreStore(clean_emulators.project)
    _post(
        "supervisor",
        "on_run_request",
        b'{"workflow": "weekly_gtm", "run_id": "run-fn-2"}',
        {"kind": "run_request"},
        "m-2",
    )
    wrong_agent = AgentTask(
        run_id="run-fn-2", task_id="finance", agent="finance", workflow="weekly_gtm"
    )

    status = _post(
        "agents/marketing",
        "on_task",
        wrong_agent.model_dump_json().encode(),
        wrong_agent.attributes(),
        "m-3",
    )

    assert status == 200
    [parked] = dead_letters.pull(expected=1)
    assert parked.attributes["rejected_by"] == "agent-marketing"
    rejected = [e for e in store.list_events("run-fn-2") if e.type == "message.rejected"]
    assert len(rejected) == 1
    assert "task for agent 'finance' delivered to 'marketing'" in rejected[0].message


def test_a_task_for_an_unknown_run_is_dead_lettered(
    clean_emulators: Emulators, dead_letters: TopicTap
) -> None:
    task = AgentTask(
        run_id="run-never-created", task_id="finance", agent="finance", workflow="weekly_gtm"
    )

    status = _post(
        "agents/finance", "on_task", task.model_dump_json().encode(), task.attributes(), "m-4"
    )

    assert status == 200
    [parked] = dead_letters.pull(expected=1)
    assert parked.attributes["reason"] == "task run-never-created/finance does not exist"


def test_a_duplicate_of_a_task_leased_by_another_delivery_is_acknowledged_untouched(
    clean_emulators: Emulators,
) -> None:
    store = FirestoreStore(clean_emulators.project)
    _post(
        "supervisor",
        "on_run_request",
        b'{"workflow": "weekly_gtm", "run_id": "run-fn-3"}',
        {"kind": "run_request"},
        "m-5",
    )
    store.claim_task("run-fn-3", "finance", "another-delivery", 600, utcnow())
    task = AgentTask(run_id="run-fn-3", task_id="finance", agent="finance", workflow="weekly_gtm")

    status = _post(
        "agents/finance", "on_task", task.model_dump_json().encode(), task.attributes(), "m-6"
    )

    # Acknowledged: the lease owner's own message is redelivered if that delivery dies.
    assert status == 200
    finance = store.get_task("run-fn-3", "finance")
    assert (
        finance is not None and finance.attempts == 1 and finance.lease_owner == "another-delivery"
    )
    assert "task.duplicate_ignored" in [e.type for e in store.list_events("run-fn-3")]


def test_an_event_without_a_pubsub_message_is_dead_lettered_as_it_arrived(
    clean_emulators: Emulators, dead_letters: TopicTap
) -> None:
    client = function_client("supervisor", "on_task_result", "cloudevent")
    headers, _ = pubsub_cloud_event(b"", {}, "odd-1")

    response = client.post("/", headers=headers, data='{"surprise": true}')

    assert response.status_code == 200
    [parked] = dead_letters.pull(expected=1)
    assert (
        parked.attributes["reason"] == "undecodable event: CloudEvent data has no 'message' object"
    )
    assert parked.data == b'{"surprise": true}'


def test_a_policy_override_in_firestore_applies_without_a_deploy(
    clean_emulators: Emulators,
) -> None:
    store = FirestoreStore(clean_emulators.project)
    store.client.collection("agent_settings").document("insights").set(
        {"policy": {"version": 7, "values": {"churn_after_days": 30}}}
    )
    request = b'{"workflow": "weekly_gtm", "run_id": "run-fn-4"}'
    _post("supervisor", "on_run_request", request, {"kind": "run_request"}, "m-7")
    task = AgentTask(run_id="run-fn-4", task_id="insights", agent="insights", workflow="weekly_gtm")

    _post("agents/insights", "on_task", task.model_dump_json().encode(), task.attributes(), "m-8")

    insights = store.get_task("run-fn-4", "insights")
    assert insights is not None and insights.output is not None
    assert insights.output["versions"]["policy"] == "insights/v7 (override)"
    assert insights.output["report"]["churn_after_days"] == 30
    steps = [e.message for e in store.list_events("run-fn-4") if e.type == "task.step"]
    assert steps[0].startswith("insights · analyse: computed")
    assert steps[1].startswith("insights · write: wrote")
