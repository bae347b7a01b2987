"""The sweeper fails what is unfinished past its run's deadline, and finishes the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.app.sweep import resend_stalled_work, sweep_overdue_runs
from shared.app.timeline import run_event
from shared.core.documents import RunDoc, TaskDoc
from shared.core.messages import AgentTask
from shared.core.models import RunStatus, TaskStatus
from shared.core.topology import agent_topic
from tests.conftest import Emulators
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def _run(store: FirestoreStore, run_id: str, deadline_min: int) -> None:
    run = RunDoc(
        run_id=run_id,
        workflow="weekly_gtm",
        trigger="schedule",
        task_count=2,
        created_at=START,
        deadline_at=START + timedelta(minutes=deadline_min),
    )
    tasks = [
        TaskDoc(run_id=run_id, task_id=a, agent=a, created_at=START) for a in ("finance", "support")
    ]
    store.create_run(run, tasks, [run_event(run_id, "run.created", "created", START)])
    store.claim_task(run_id, "finance", "m-1", 60, START)
    store.finish_task(run_id, "finance", TaskStatus.SUCCEEDED, START, output={"summary": "ok"})
    store.claim_task(run_id, "support", "m-2", 60, START)  # never reports back


def _stalled_run(store: FirestoreStore, run_id: str) -> None:
    """Two tasks: finance taken at START with a 60 s lease, support never taken."""
    run = RunDoc(
        run_id=run_id,
        workflow="weekly_gtm",
        trigger="schedule",
        task_count=2,
        created_at=START,
        deadline_at=START + timedelta(minutes=30),
    )
    tasks = [
        TaskDoc(run_id=run_id, task_id=a, agent=a, created_at=START) for a in ("finance", "support")
    ]
    store.create_run(run, tasks, [run_event(run_id, "run.created", "created", START)])
    store.claim_task(run_id, "finance", "m-1", 60, START)


def test_tasks_whose_messages_were_lost_are_sent_again_and_a_finished_step_moved_on(
    store: FirestoreStore, bus: PubSubBus, clean_emulators: Emulators
) -> None:
    _stalled_run(store, "run-stalled")
    finance = TopicTap(clean_emulators.project, agent_topic("finance"))
    support = TopicTap(clean_emulators.project, agent_topic("support"))
    try:
        # 30 s in: support untaken for 30 s, finance's lease still held: nothing is due.
        early = resend_stalled_work(
            store, bus=bus, clock=lambda: START + timedelta(seconds=30), stall_s=60
        )
        # 90 s in: support untaken past the 60 s, finance's lease lapsed: both sent again.
        late = resend_stalled_work(
            store, bus=bus, clock=lambda: START + timedelta(seconds=90), stall_s=60
        )
        sent = {
            "finance": [AgentTask.model_validate_json(m.data) for m in finance.pull(expected=1)],
            "support": [AgentTask.model_validate_json(m.data) for m in support.pull(expected=1)],
        }
    finally:
        finance.close()
        support.close()

    assert early == {} and late == {"run-stalled": 2}
    assert {agent: [t.task_id for t in tasks] for agent, tasks in sent.items()} == {
        "finance": ["finance"],
        "support": ["support"],
    }
    resent = [e.message for e in store.list_events("run-stalled") if e.type == "task.resent"]
    assert resent == ["analyse: no word from finance, support for 60 s; 2 task(s) sent again"]

    # Both answered, but the last result never reached the supervisor: the sweep moves on.
    done_at = START + timedelta(minutes=2)
    for agent in ("finance", "support"):
        store.claim_task("run-stalled", agent, f"m-{agent}-2", 60, done_at)
        store.finish_task(
            "run-stalled", agent, TaskStatus.SUCCEEDED, done_at, output={"summary": "ok"}
        )
    too_soon = resend_stalled_work(store, bus=bus, clock=lambda: done_at, stall_s=60)
    moved = resend_stalled_work(
        store, bus=bus, clock=lambda: done_at + timedelta(seconds=61), stall_s=60
    )

    assert too_soon == {} and moved == {"run-stalled": 0}
    run = store.get_run("run-stalled")
    assert run is not None and run.status is RunStatus.SUCCEEDED, run


def test_an_overdue_run_is_failed_with_the_reason_and_a_timely_one_is_left_alone(
    store: FirestoreStore, bus: PubSubBus
) -> None:
    _run(store, "run-overdue", deadline_min=30)
    _run(store, "run-in-time", deadline_min=120)
    now = START + timedelta(minutes=45)

    swept = sweep_overdue_runs(store, bus=bus, clock=lambda: now)
    again = sweep_overdue_runs(store, bus=bus, clock=lambda: now)

    assert swept == ["run-overdue"] and again == []
    overdue = store.get_run("run-overdue")
    assert overdue is not None and overdue.status is RunStatus.FAILED
    assert overdue.failure_reasons == ["support: timed out: no result within 0:30:00"]
    support = store.get_task("run-overdue", "support")
    assert support is not None and support.status is TaskStatus.FAILED
    timed_out = [e.message for e in store.list_events("run-overdue") if e.type == "task.timed_out"]
    assert timed_out == ["support timed out: no result within 0:30:00 (was running, 1 attempts)"]
    in_time = store.get_run("run-in-time")
    assert in_time is not None and in_time.status is RunStatus.RUNNING


def test_the_maintenance_function_routes_sweeps_and_nightly_reindexes(
    store: FirestoreStore,
) -> None:
    from tests.helpers.functions_app import function_client, pubsub_cloud_event

    _run(store, "run-overdue-fn", deadline_min=-60)  # already past its deadline
    client = function_client("supervisor", "on_sweep", "cloudevent")

    sweep_headers, sweep_body = pubsub_cloud_event(b"{}", {"kind": "sweep"}, "tick-1")
    reindex_headers, reindex_body = pubsub_cloud_event(b"{}", {"kind": "kb_reindex"}, "tick-2")
    swept = client.post("/", headers=sweep_headers, data=sweep_body)
    reindexed = client.post("/", headers=reindex_headers, data=reindex_body)

    assert (swept.status_code, reindexed.status_code) == (200, 200)
    run = store.get_run("run-overdue-fn")
    assert run is not None and run.status is RunStatus.FAILED
    articles = list(store.client.collection("kb_articles").list_documents())
    assert len(articles) == 22
