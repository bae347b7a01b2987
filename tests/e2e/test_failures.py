"""Crashes and poison messages in the running local cloud: runs still end, and say why."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from emulators.cloud import LocalCloud
from shared.adapters.firestore_store import FirestoreStore
from shared.core.models import RunStatus, TaskStatus
from shared.core.topology import DEAD_LETTERS_TOPIC, RUN_REQUESTS_TOPIC
from tests.conftest import API_TOKEN, Emulators
from tests.e2e.conftest import start_run_via_api, wait_for_run
from tests.helpers.pubsub import TopicTap
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def restore_agents(cloud: LocalCloud) -> Iterator[None]:
    """Put every agent back to its normal configuration after the test."""
    yield
    for agent in ("finance", "support"):
        cloud.restart_function(f"agent-{agent}")


def _faults(agent: str, **fault: object) -> dict[str, str]:
    return {"CONTROLROOM_FAULTS": json.dumps({agent: fault})}


def test_an_agent_killed_mid_task_is_redelivered_and_the_run_finishes(
    cloud: LocalCloud, store: FirestoreStore, restore_agents: None
) -> None:
    cloud.restart_function("agent-finance", _faults("finance", delay_s=30))
    run_id = start_run_via_api(cloud)

    def finance_started() -> bool:
        return any(
            e.type == "task.started" and e.agent == "finance" for e in store.list_events(run_id)
        )

    wait_for(finance_started, 30, "the finance agent to start its task")
    cloud.kill_function("agent-finance")
    cloud.restart_function("agent-finance")
    run = wait_for_run(store, run_id)

    assert run.status is RunStatus.SUCCEEDED, run.failure_reasons
    finance = store.get_task(run_id, "finance")
    assert finance is not None and finance.status is TaskStatus.SUCCEEDED and finance.attempts == 2
    started = [
        e.attempt
        for e in store.list_events(run_id)
        if e.type == "task.started" and e.agent == "finance"
    ]
    assert started == [1, 2]
    failed_posts = [r for r in cloud.pumps["agent-finance"].records if r.error is not None]
    assert failed_posts, "the killed delivery should have failed at the dispatcher"


def test_a_task_failing_every_attempt_is_dead_lettered_and_fails_the_run(
    cloud: LocalCloud, store: FirestoreStore, emulators: Emulators, restore_agents: None
) -> None:
    keep = TopicTap(emulators.project, DEAD_LETTERS_TOPIC)
    try:
        cloud.restart_function("agent-support", _faults("support", fail=True))
        run_id = start_run_via_api(cloud)
        run = wait_for_run(store, run_id, timeout_s=90)
        [dead] = keep.pull(expected=1)
    finally:
        keep.close()

    assert run.status is RunStatus.FAILED
    assert run.failure_reasons == [
        "support: gave up after 5 delivery attempts; "
        "last error: InjectedOutage: injected data source outage"
    ]
    assert dead.attributes["CloudPubSubDeadLetterSourceSubscription"] == "agent-support"
    assert dead.attributes["task_id"] == "support"
    events = store.list_events(run_id)
    support_failures = [
        e.attempt for e in events if e.type == "task.attempt_failed" and e.agent == "support"
    ]
    assert support_failures == [1, 2, 3, 4, 5]
    # The announcement and export of the failed run may follow; they are not part of the story.
    story = [e.type for e in events if not e.type.startswith("effect.")]
    assert story[-2:] == ["task.dead_lettered", "run.failed"]
    others = [t for t in store.list_tasks(run_id) if t.agent != "support"]
    assert all(t.status is TaskStatus.SUCCEEDED for t in others)


def test_a_task_failing_on_bad_data_fails_on_its_first_delivery_with_its_reason(
    cloud: LocalCloud, store: FirestoreStore, restore_agents: None
) -> None:
    cloud.restart_function("agent-support", _faults("support", bad_data=True))
    pump = cloud.pumps["agent-support"]
    earlier = len(pump.records)
    run_id = start_run_via_api(cloud)
    run = wait_for_run(store, run_id)
    # The dispatcher notes a delivery once the function answered, maybe after the run ended.
    deliveries = wait_for(lambda: pump.records[earlier:], 15, "the support task's delivery")

    reason = "ValidationError: as_of: Input should be a valid date or datetime"
    assert run.status is RunStatus.FAILED
    [failure] = run.failure_reasons
    assert failure.startswith(f"support: {reason}")
    support = store.get_task(run_id, "support")
    assert support is not None and support.status is TaskStatus.FAILED and support.attempts == 1
    events = store.list_events(run_id)
    assert [(e.type, e.attempt) for e in events if e.agent == "support"] == [
        ("task.started", 1),
        ("task.failed", 1),
    ]
    [failed] = [e for e in events if e.type == "task.failed"]
    assert failed.message.startswith(f"support failed: {reason}")
    story = [e.type for e in events if not e.type.startswith("effect.")]
    assert "task.dead_lettered" not in story and story[-1] == "run.failed"
    # Acknowledged on its first delivery: Pub/Sub had nothing to redeliver.
    assert [(d.attempt, d.error) for d in deliveries] == [(1, None)] * len(deliveries)
    others = [t for t in store.list_tasks(run_id) if t.agent != "support"]
    assert all(t.status is TaskStatus.SUCCEEDED for t in others)


def test_a_run_with_a_bad_param_is_refused_at_the_door_and_nothing_starts(
    cloud: LocalCloud, store: FirestoreStore, emulators: Emulators
) -> None:
    requests = TopicTap(emulators.project, RUN_REQUESTS_TOPIC)
    try:
        response = httpx.post(
            f"{cloud.webhooks_url}/runs",
            json={"workflow": "weekly_gtm", "params": {"window_days": "seven"}},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=10,
        )
        # A request is published before it is answered: whatever it published is there now.
        published = requests.pull_now()
    finally:
        requests.close()

    assert response.status_code == 400
    assert response.json() == {
        "error": "params.window_days: Input should be a valid integer, "
        "unable to parse string as an integer"
    }
    assert published == []
    assert store.list_runs() == []
