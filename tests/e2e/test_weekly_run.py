"""The weekly run through real function processes, started by the scheduler or the API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from google.cloud import scheduler_v1

from emulators.cloud import LocalCloud
from emulators.demo import create_schedules, wait_for_new_run
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.adapters.scheduler_client import scheduler_client
from shared.core.messages import AgentTask, TaskResult
from shared.core.models import RunStatus, TaskStatus
from shared.core.topology import AGENTS, TASK_RESULTS_TOPIC, agent_topic
from tests.conftest import API_TOKEN
from tests.e2e.conftest import start_run_via_api, wait_for_run
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _effects_done(store: FirestoreStore, run_id: str) -> list[str]:
    """The run's effect events once the artifacts, announcement and export are recorded."""
    done = sorted(e.type for e in store.list_events(run_id) if e.type.startswith("effect."))
    return done if len(done) == 3 else []


def test_the_scheduled_weekly_run_goes_end_to_end(cloud: LocalCloud, store: FirestoreStore) -> None:
    job_name = next(name for name in create_schedules(cloud) if name.endswith("/weekly-gtm"))
    client = scheduler_client(cloud.scheduler_address)

    client.run_job(name=job_name)
    run = wait_for_run(store, wait_for_new_run(store, set(), 30).run_id)

    assert run.status is RunStatus.SUCCEEDED, run.failure_reasons
    assert run.trigger == "schedule"
    tasks = store.list_tasks(run.run_id)
    assert sorted(t.agent for t in tasks) == sorted(AGENTS)
    assert all(t.status is TaskStatus.SUCCEEDED and t.attempts == 1 for t in tasks)
    assert run.summary is not None and "Marketing: best channel email" in run.summary
    job = client.get_job(name=job_name)
    assert job.state == scheduler_v1.Job.State.ENABLED
    assert job.status.code == 0 and job.last_attempt_time is not None

    def read(path: str) -> httpx.Response:
        return httpx.get(f"{cloud.status_url}{path}", headers=AUTH, timeout=10)

    page = read(f"/runs/{run.run_id}")
    assert page.status_code == 200 and "succeeded" in page.text and "run.succeeded" in page.text
    report = read(f"/runs/{run.run_id}/report")
    assert "## Finance" in report.text
    html = read(f"/runs/{run.run_id}/artifacts/report.html")
    figures = read(f"/runs/{run.run_id}/artifacts/numbers.csv")
    assert "<h2>Finance</h2>" in html.text
    assert "finance,revenue.latest_complete_month.revenue_cents,1499485" in figures.text

    assert wait_for(lambda: _effects_done(store, run.run_id), 30, "the effects") == [
        "effect.announce",
        "effect.artifacts",
        "effect.export",
    ]
    published = store.get_artifact(run.run_id, "report.html")
    assert published is not None and published.uri and published.uri.startswith("file://")
    assert "<h2>Finance</h2>" in Path(published.uri.removeprefix("file://")).read_text()
    exported = store.client.collection("sheet_exports").document(run.run_id).get()
    assert exported.exists and len(exported.get("rows")) > 50


def test_duplicate_deliveries_of_a_task_and_a_result_change_nothing(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    run_id = start_run_via_api(cloud)
    assert wait_for_run(store, run_id).status is RunStatus.SUCCEEDED
    wait_for(lambda: _effects_done(store, run_id), 30, "the run's announcement and export")
    before = (
        store.get_run(run_id),
        store.list_tasks(run_id),
        [(e.event_id, e.type) for e in store.list_events(run_id)],
    )
    results_seen = len(cloud.pumps["supervisor-results"].records)
    bus = PubSubBus(cloud.config.project)
    task = AgentTask(run_id=run_id, task_id="finance", agent="finance", workflow="weekly_gtm")
    result = TaskResult(run_id=run_id, task_id="finance", agent="finance", status="succeeded")

    ids = {bus.publish(agent_topic("finance"), task) for _ in range(2)}
    ids |= {bus.publish(TASK_RESULTS_TOPIC, result) for _ in range(2)}

    def delivered() -> bool:
        done = {r.message_id for p in cloud.pumps.values() for r in p.records if r.error is None}
        return ids <= done

    wait_for(delivered, 30, "the duplicates to be delivered and acknowledged")
    # The agent's duplicate re-reports its stored result: wait for that echo to be consumed too.
    echoes = results_seen + 2 + 2
    wait_for(
        lambda: len(cloud.pumps["supervisor-results"].records) >= echoes, 30, "the echoed results"
    )
    after = (
        store.get_run(run_id),
        store.list_tasks(run_id),
        [(e.event_id, e.type) for e in store.list_events(run_id)],
    )
    assert after == before


def test_a_bad_request_to_the_api_is_rejected_over_http(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    response = httpx.post(
        f"{cloud.webhooks_url}/runs",
        content=json.dumps({"workflow": "monthly_magic"}),
        headers={"Authorization": "Bearer test-token-1234", "Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("unknown workflow 'monthly_magic'")
    assert store.list_runs() == []
