"""Firestore contention: many copies of every task and result of one run delivered at once,
racing on the task leases, the fan-in count and the completion markers. One winner each."""

from __future__ import annotations

from collections import Counter

import pytest

from emulators.cloud import LocalCloud
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.core.messages import AgentTask, TaskResult
from shared.core.models import RunStatus
from shared.core.topology import AGENTS, TASK_RESULTS_TOPIC, agent_topic
from tests.e2e.conftest import start_run_via_api, wait_for_run
from tests.faults.conftest import (
    FAULT_RUNS,
    FaultFigures,
    effect_repeats,
    effects_done,
)
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e

# The emulator's pessimistic locks make a copy wait up to ~2 s per contended transaction.
MAX_DELIVERIES = 5
COPIES = 5 if FAULT_RUNS <= 10 else 20
EFFECTS = {"artifacts", "announce", "export"}


def test_copies_racing_on_one_runs_fan_in_finish_it_once(
    cloud: LocalCloud, store: FirestoreStore, figures: FaultFigures
) -> None:
    bus = PubSubBus(cloud.config.project)
    run_id = start_run_via_api(cloud)
    tasks = [
        AgentTask(run_id=run_id, task_id=agent, agent=agent, workflow="weekly_gtm")
        for agent in AGENTS
    ]
    results = [
        TaskResult(run_id=run_id, task_id=agent, agent=agent, status="succeeded")
        for agent in AGENTS
    ]
    # While the run's own tasks are being worked: copies of each task, and premature results.
    ids = []
    for task in tasks:
        ids += bus.publish_many(agent_topic(task.agent), [task] * COPIES)
    ids += bus.publish_many(TASK_RESULTS_TOPIC, results * COPIES)
    figures.faults = len(ids)
    run = wait_for_run(store, run_id, timeout_s=150)
    figures.runs = figures.runs_finished = 1
    figures.runs_failed = int(run.status is RunStatus.FAILED)

    def settled() -> bool:
        """Every copy acknowledged, or out of delivery attempts (then dead-lettered)."""
        tries: Counter[str] = Counter()
        acked = set()
        for pump in cloud.pumps.values():
            for record in pump.records:
                tries[record.message_id] += 1
                if record.error is None:
                    acked.add(record.message_id)
        return all(i in acked or tries[i] >= MAX_DELIVERIES for i in ids)

    wait_for(settled, 120, "every copy to be acknowledged or dead-lettered", interval_s=0.3)
    wait_for(lambda: effects_done(store, run_id) >= EFFECTS, 30, "the effects")
    figures.effect_retries = effect_repeats(store, run_id)
    events = store.list_events(run_id)
    started = {a: [e.attempt or 0 for e in events if e.type == "task.started" and e.agent == a]
               for a in AGENTS}  # fmt: skip
    figures.notes.append(f"{len(ids)} racing copies; starts per agent {started}")

    # Contended claims that keep aborting can use up a copy's delivery attempts: the run then
    # fails with that reason; it never hangs, and no task is worked twice at once.
    assert run.status is RunStatus.SUCCEEDED or run.failure_reasons, run
    if run.status is RunStatus.FAILED:
        figures.notes.append(f"{run_id} failed: {run.failure_reasons}")
    stored = store.list_tasks(run_id)
    assert len(stored) == len(AGENTS) and all(t.status.terminal for t in stored)
    assert all(attempts == sorted(set(attempts)) for attempts in started.values()), started
    assert effects_done(store, run_id) >= EFFECTS
    assert figures.effect_retries == 0
