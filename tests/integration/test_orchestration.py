"""Supervisor and agent use cases on the real emulators: fan-out, fan-in, duplicates, failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from pydantic import BaseModel

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.adapters.sample_source import SampleDataSource
from shared.agents.registry import run_analysis_agent
from shared.app.orchestrate import (
    fail_dead_lettered_task,
    finish_run_if_complete,
    record_task_result,
    run_id_for,
    start_run,
)
from shared.app.run_agent import run_agent_task
from shared.core.agent_settings import resolve_agent_settings
from shared.core.errors import InvalidMessageError
from shared.core.messages import AgentTask, RunRequest, TaskResult
from shared.core.models import RunStatus, TaskStatus
from shared.core.ports import AgentOutcome, StepRecorder
from shared.core.topology import AGENTS, TASK_RESULTS_TOPIC, agent_topic
from shared.llm.offline import OfflineLLM
from tests.conftest import Emulators
from tests.helpers.pubsub import TopicTap
from tests.integration.conftest import SteppingClock

pytestmark = pytest.mark.integration

SOURCE = SampleDataSource(date(2026, 11, 16))
LLM = OfflineLLM()


def real_agent(task: AgentTask, on_step: StepRecorder) -> AgentOutcome:
    settings = resolve_agent_settings(task.agent)
    return run_analysis_agent(task, data=SOURCE, llm=LLM, settings=settings, on_step=on_step)


@pytest.fixture
def taps(emulators: Emulators) -> Iterator[dict[str, TopicTap]]:
    topics = [agent_topic(a) for a in AGENTS] + [TASK_RESULTS_TOPIC]
    opened = {t: TopicTap(emulators.project, t) for t in topics}
    yield opened
    for tap in opened.values():
        tap.close()


def _work(task: AgentTask, store: FirestoreStore, bus: PubSubBus, clock: SteppingClock) -> None:
    """Run the real agent on one task, delivered once."""
    run_agent_task(
        task, f"d-{task.agent}", store=store, bus=bus, runner=real_agent, lease_s=60, clock=clock
    )


def _tasks_from(taps: dict[str, TopicTap]) -> list[AgentTask]:
    tasks = []
    for agent in AGENTS:
        for message in taps[agent_topic(agent)].pull(expected=1):
            tasks.append(AgentTask.model_validate_json(message.data))
    return tasks


def _state(store: FirestoreStore, run_id: str) -> tuple[object, ...]:
    run = store.get_run(run_id)
    assert run is not None
    tasks = [(t.task_id, t.status, t.attempts) for t in store.list_tasks(run_id)]
    events = [(e.event_id, e.type) for e in store.list_events(run_id)]
    return run.status, tuple(tasks), tuple(events)


def test_a_run_fans_out_one_task_per_agent_and_finishes_when_all_report(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm", trigger="schedule"),
        "msg-1",
        store=store,
        bus=bus,
        clock=clock,
    )
    tasks = _tasks_from(taps)
    assert sorted(t.agent for t in tasks) == sorted(AGENTS)

    statuses = []
    for task in tasks:
        run_agent_task(
            task,
            f"delivery-{task.agent}",
            store=store,
            bus=bus,
            runner=real_agent,
            lease_s=60,
            clock=clock,
        )
        statuses.append(record_task_result(
            TaskResult(run_id=run_id, task_id=task.task_id, agent=task.agent, status="succeeded"),
            f"result-{task.agent}", store=store, bus=bus, clock=clock,
        ))  # fmt: skip

    assert statuses == [None, None, None, RunStatus.SUCCEEDED]
    run = store.get_run(run_id)
    assert run is not None and run.status is RunStatus.SUCCEEDED
    assert run.summary and "Finance: revenue €14,994.85 (+24.3% MoM)" in run.summary
    assert run.usage.calls == 5 and run.usage.provider == "offline"  # marketing also drafts
    report = store.get_artifact(run_id, "report.md")
    assert report is not None and "## Marketing" in report.content
    assert [e.type for e in store.list_events(run_id)][-1] == "run.succeeded"
    results = taps[TASK_RESULTS_TOPIC].pull(expected=4)
    assert sorted(json.loads(m.data)["agent"] for m in results) == sorted(AGENTS)


def test_duplicate_run_request_creates_nothing_new(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    request = RunRequest(workflow="weekly_gtm", trigger="schedule")
    run_id = start_run(request, "msg-dup", store=store, bus=bus, clock=clock)
    tasks = _tasks_from(taps)
    for task in tasks[:2]:
        _work(task, store, bus, clock)
    before = _state(store, run_id)

    again = start_run(request, "msg-dup", store=store, bus=bus, clock=clock)

    assert again == run_id
    assert _state(store, run_id) == before
    republished = [m for a in AGENTS for m in taps[agent_topic(a)].pull(expected=1, timeout_s=3)]
    # Only the two tasks still pending are published again; agents ignore duplicates anyway.
    assert sorted(AgentTask.model_validate_json(m.data).agent for m in republished) == sorted(
        t.agent for t in tasks[2:]
    )


def test_a_run_request_with_params_its_workflow_refuses_creates_nothing(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    request = RunRequest(workflow="weekly_gtm", trigger="schedule", params={"window_days": -7})

    with pytest.raises(InvalidMessageError) as refused:
        start_run(request, "msg-bad", store=store, bus=bus, clock=clock)

    assert "params.window_days: Input should be greater than or equal to 1" in str(refused.value)
    assert store.get_run(run_id_for(request, "msg-bad")) is None
    assert [m for a in AGENTS for m in taps[agent_topic(a)].pull_now()] == []


def test_a_run_keeps_its_params_as_the_workflow_reads_them(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    request = RunRequest(workflow="weekly_gtm", params={"window_days": "14"})

    run_id = start_run(request, "msg-text", store=store, bus=bus, clock=clock)

    run = store.get_run(run_id)
    assert run is not None and run.params == {"window_days": 14}
    assert {t.params["window_days"] for t in _tasks_from(taps)} == {14}


def test_duplicate_task_delivery_runs_the_agent_once(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-2", store=store, bus=bus, clock=clock
    )
    task = next(t for t in _tasks_from(taps) if t.agent == "finance")
    calls: list[str] = []

    def counting_agent(t: AgentTask, on_step: StepRecorder) -> AgentOutcome:
        calls.append(t.task_id)
        return real_agent(t, on_step)

    first = run_agent_task(
        task, "delivery-1", store=store, bus=bus, runner=counting_agent, lease_s=60, clock=clock
    )
    before = _state(store, run_id)
    second = run_agent_task(
        task, "delivery-2", store=store, bus=bus, runner=counting_agent, lease_s=60, clock=clock
    )

    assert first is second is TaskStatus.SUCCEEDED
    assert calls == ["finance"]
    assert _state(store, run_id) == before
    # The duplicate re-reports the stored result so a lost first report cannot strand the run.
    assert len(taps[TASK_RESULTS_TOPIC].pull(expected=2)) == 2


def test_duplicate_results_leave_the_same_state(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-3", store=store, bus=bus, clock=clock
    )
    for task in _tasks_from(taps):
        _work(task, store, bus, clock)
    result = TaskResult(run_id=run_id, task_id="finance", agent="finance", status="succeeded")
    record_task_result(result, "result-1", store=store, bus=bus, clock=clock)
    finished = _state(store, run_id)
    run = store.get_run(run_id)

    for delivery in ("result-1", "result-2", "result-3"):
        record_task_result(result, delivery, store=store, bus=bus, clock=clock)

    assert _state(store, run_id) == finished
    assert store.get_run(run_id) == run


def test_a_failing_attempt_is_on_the_timeline_and_the_retry_succeeds(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-4", store=store, bus=bus, clock=clock
    )
    task = next(t for t in _tasks_from(taps) if t.agent == "support")

    def broken(t: AgentTask, on_step: StepRecorder) -> AgentOutcome:
        raise ConnectionError("warehouse unreachable")

    with pytest.raises(ConnectionError):
        run_agent_task(task, "m-1", store=store, bus=bus, runner=broken, lease_s=60, clock=clock)
    run_agent_task(task, "m-1", store=store, bus=bus, runner=real_agent, lease_s=60, clock=clock)

    support_events = [
        (e.type, e.attempt) for e in store.list_events(run_id) if e.agent == "support"
    ]
    assert support_events == [
        ("task.started", 1), ("task.attempt_failed", 1), ("task.started", 2),
        ("task.step", 2), ("task.step", 2), ("task.succeeded", 2),
    ]  # fmt: skip
    failed_event = next(e for e in store.list_events(run_id) if e.type == "task.attempt_failed")
    assert "warehouse unreachable" in failed_event.message


class _Row(BaseModel):
    amount: int


def test_a_task_failing_on_bad_data_fails_on_that_delivery_with_its_reason(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-bad-data", store=store, bus=bus, clock=clock
    )
    task = next(t for t in _tasks_from(taps) if t.agent == "support")

    def reads_a_bad_row(t: AgentTask, on_step: StepRecorder) -> AgentOutcome:
        _Row.model_validate({"amount": "lots"})
        raise AssertionError("unreachable")

    status = run_agent_task(
        task, "m-1", store=store, bus=bus, runner=reads_a_bad_row, lease_s=60, clock=clock
    )

    assert status is TaskStatus.FAILED  # returned, not raised: the message is acknowledged
    stored = store.get_task(run_id, "support")
    reason = "ValidationError: amount: Input should be a valid integer, unable to parse string"
    assert stored is not None and stored.attempts == 1 and stored.error is not None
    assert stored.error.startswith(reason)
    events = [(e.type, e.attempt) for e in store.list_events(run_id) if e.agent == "support"]
    assert events == [("task.started", 1), ("task.failed", 1)]
    [failed] = [e for e in store.list_events(run_id) if e.type == "task.failed"]
    assert failed.message.startswith(f"support failed: {reason}")
    [result] = taps[TASK_RESULTS_TOPIC].pull(expected=1)
    assert TaskResult.model_validate_json(result.data).status == "failed"


def test_a_value_error_wrapping_transaction_contention_is_retried(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-contended", store=store, bus=bus, clock=clock
    )
    task = next(t for t in _tasks_from(taps) if t.agent == "finance")

    def contended(t: AgentTask, on_step: StepRecorder) -> AgentOutcome:
        # What google-cloud-firestore raises when a transaction's commit keeps aborting.
        raise ValueError(
            "Failed to commit transaction in 5 attempts."
        ) from ConnectionAbortedError()

    with pytest.raises(ValueError, match="Failed to commit transaction"):
        run_agent_task(task, "m-1", store=store, bus=bus, runner=contended, lease_s=60, clock=clock)

    stored = store.get_task(run_id, "finance")
    assert stored is not None and not stored.status.terminal
    assert [e.type for e in store.list_events(run_id) if e.agent == "finance"] == [
        "task.started",
        "task.attempt_failed",
    ]


def test_a_dead_lettered_task_fails_the_run_with_its_reason(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-5", store=store, bus=bus, clock=clock
    )
    tasks = _tasks_from(taps)
    doomed = next(t for t in tasks if t.agent == "insights")
    for task in tasks:
        if task is not doomed:
            _work(task, store, bus, clock)
    store.claim_task(run_id, "insights", "m-x", 60, clock())
    store.release_task(run_id, "insights", "m-x", "ConnectionError: CRM timeout")

    status = fail_dead_lettered_task(doomed, 5, "dl-1", store=store, bus=bus, clock=clock)
    again = fail_dead_lettered_task(doomed, 5, "dl-1", store=store, bus=bus, clock=clock)

    assert status is again is RunStatus.FAILED
    run = store.get_run(run_id)
    assert run is not None
    assert run.failure_reasons == [
        "insights: gave up after 5 delivery attempts; last error: ConnectionError: CRM timeout"
    ]
    assert [e.type for e in store.list_events(run_id)].count("task.dead_lettered") == 1


def test_of_two_deliveries_that_see_the_last_task_only_one_finishes_the_run(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-6", store=store, bus=bus, clock=clock
    )
    for task in _tasks_from(taps):
        _work(task, store, bus, clock)
    # Both deliveries see every task terminal; the marker decides who writes the outcome.
    assert store.claim_marker(run_id, "analyse-1", "result-a") is True

    loser = finish_run_if_complete(run_id, "result-b", store=store, bus=bus, clock=clock)
    assert loser is None
    assert store.get_run(run_id).status is RunStatus.RUNNING  # type: ignore[union-attr]

    # The winner crashed before writing; its redelivery (same message id) finishes the run.
    winner = finish_run_if_complete(run_id, "result-a", store=store, bus=bus, clock=clock)
    assert winner is RunStatus.SUCCEEDED
    assert [e.type for e in store.list_events(run_id)].count("run.succeeded") == 1


def test_a_duplicate_of_a_task_in_progress_is_acknowledged_and_does_nothing(
    store: FirestoreStore, bus: PubSubBus, clock: SteppingClock, taps: dict[str, TopicTap]
) -> None:
    run_id = start_run(
        RunRequest(workflow="weekly_gtm"), "msg-busy", store=store, bus=bus, clock=clock
    )
    task = next(t for t in _tasks_from(taps) if t.agent == "finance")
    store.claim_task(run_id, "finance", "first-delivery", 60, clock())
    ran: list[str] = []

    def runner(t: AgentTask, on_step: StepRecorder) -> AgentOutcome:
        ran.append(t.task_id)
        return real_agent(t, on_step)

    status = run_agent_task(
        task, "copy-delivery", store=store, bus=bus, runner=runner, lease_s=60, clock=clock
    )

    assert status is TaskStatus.RUNNING and ran == []
    stored = store.get_task(run_id, "finance")
    assert stored is not None and stored.lease_owner == "first-delivery" and stored.attempts == 1
    assert "task.duplicate_ignored" in [e.type for e in store.list_events(run_id)]
    # The first delivery's own redelivery takes the task back and finishes it.
    run_agent_task(
        task, "first-delivery", store=store, bus=bus, runner=runner, lease_s=60, clock=clock
    )
    assert ran == ["finance"]
