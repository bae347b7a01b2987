"""The status page through functions-framework, reading what the store holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import flask
import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.app.timeline import run_event
from shared.core.documents import Artifact, RunDoc, TaskDoc
from shared.core.models import LlmUsage, RunStatus, TaskStatus
from shared.core.topology import RUN_REQUESTS_TOPIC
from tests.conftest import Emulators
from tests.helpers.pubsub import TopicTap
from tests.helpers.status_client import status_client

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    store = FirestoreStore(clean_emulators.project)
    run = RunDoc(
        run_id="run-page-1", workflow="weekly_gtm", trigger="schedule", task_count=1, created_at=NOW
    )
    task = TaskDoc(run_id="run-page-1", task_id="finance", agent="finance", created_at=NOW)
    store.create_run(
        run, [task], [run_event("run-page-1", "run.created", "Weekly report requested", NOW)]
    )
    store.finish_task(
        "run-page-1", "finance", TaskStatus.FAILED, NOW, error="<script>alert(1)</script>"
    )
    done = run.model_copy(update={
        "status": RunStatus.FAILED, "duration_s": 4.2, "failure_reasons": ["finance: boom"],
        "usage": LlmUsage(tokens_in=120, tokens_out=80, cost_usd=0.0012, calls=1),
    })  # fmt: skip
    store.finish_run(done)
    store.save_artifact(
        "run-page-1",
        Artifact(
            name="report.md", content_type="text/markdown", content="# Report", created_at=NOW
        ),
    )
    return status_client()  # the API token may read


def test_runs_list_as_json_and_html(client: flask.testing.FlaskClient) -> None:
    as_json = client.get("/api/runs").get_json()
    html = client.get("/runs").get_data(as_text=True)

    assert [(r["run_id"], r["status"], r["duration_s"]) for r in as_json["runs"]] == [
        ("run-page-1", "failed", 4.2)
    ]
    assert 'href="/runs/run-page-1"' in html and "$0.0012" in html


def test_run_detail_shows_tasks_and_timeline_with_escaping(
    client: flask.testing.FlaskClient,
) -> None:
    detail = client.get("/api/runs/run-page-1").get_json()
    html = client.get("/runs/run-page-1").get_data(as_text=True)

    assert [t["status"] for t in detail["tasks"]] == ["failed"]
    assert [e["type"] for e in detail["events"]] == ["run.created"]
    assert "lease_owner" not in detail["tasks"][0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "finance: boom" in html and 'http-equiv="refresh"' not in html


def test_report_and_missing_pages(client: flask.testing.FlaskClient) -> None:
    assert client.get("/runs/run-page-1/report").get_data(as_text=True) == "# Report"
    assert client.get("/runs/nope").status_code == 404
    assert client.get("/api/runs?limit=0").status_code == 400
    assert client.post("/runs").status_code == 405


def test_the_report_is_a_page_with_headlines_charts_and_downloads(
    clean_emulators: Emulators,
) -> None:
    from shared.adapters.sample_source import generate_sample_dataset
    from shared.agents import finance, marketing
    from shared.core.agent_settings import resolve_agent_settings

    store = FirestoreStore(clean_emulators.project)
    dataset = generate_sample_dataset()
    run = RunDoc(
        run_id="run-report-1", workflow="weekly_gtm", trigger="api", task_count=2, created_at=NOW
    )
    tasks = [
        TaskDoc(run_id=run.run_id, task_id=name, agent=name, created_at=NOW)
        for name in ("finance", "marketing")
    ]
    store.create_run(run, tasks, [])
    for name, module in (("finance", finance), ("marketing", marketing)):
        report = module.analyse(dataset, dict(resolve_agent_settings(name).policy.values))
        output = {
            "summary": f"# {name}\n\nRevenue **grew**.",
            "report": report.model_dump(mode="json"),
        }
        store.finish_task(run.run_id, name, TaskStatus.SUCCEEDED, NOW, output=output)
    store.finish_run(run.model_copy(update={"status": RunStatus.SUCCEEDED}))
    store.save_artifact(
        run.run_id,
        Artifact(name="report.md", content_type="text/markdown", content="# R", created_at=NOW),
    )
    client = status_client()

    page = client.get(f"/runs/{run.run_id}/report", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    as_json = client.get(f"/api/runs/{run.run_id}/report").get_json()
    markdown = client.get(f"/runs/{run.run_id}/report").get_data(as_text=True)

    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<title>Weekly go-to-market report — 16 November 2026 · controlroom</title>" in html
    assert html.count("<svg") == 2 and "Revenue <strong>grew</strong>" in html
    assert "Monthly recurring revenue" in html and "€" in html
    assert f'href="/runs/{run.run_id}/artifacts/report.md"' in html
    assert [h["label"] for h in as_json["headlines"]][:2] == [
        f"Revenue, {as_json['headlines'][0]['label'].split(', ')[1]}",
        "Monthly recurring revenue",
    ]
    assert [s["agent"] for s in as_json["sections"]] == ["finance", "marketing"]
    assert markdown == "# R"


def test_the_start_form_refuses_a_bad_value_naming_the_field_and_publishes_nothing(
    clean_emulators: Emulators,
) -> None:
    tap = TopicTap(clean_emulators.project, RUN_REQUESTS_TOPIC)
    client = status_client()
    try:
        form = client.get("/runs/new", headers={"Accept": "text/html"}).get_data(as_text=True)
        refused = client.post(
            "/runs/new", data={"workflow": "weekly_gtm", "param.window_days": "seven"}
        )
        unknown = client.post("/runs/new", data={"workflow": "weekly_gtm", "param.colour": "red"})
        started = client.post(
            "/runs/new",
            data={"workflow": "growth", "param.platforms": "meta, linkedin", "param.note": ""},
        )
        [request] = tap.pull(expected=1)
        later = tap.pull_now()
    finally:
        tap.close()

    assert 'name="param.window_days"' in form and "Start Win-back campaign" in form
    assert refused.status_code == 400 and "window_days" in refused.get_json()["error"]
    assert unknown.status_code == 400 and "colour" in unknown.get_json()["error"]
    assert started.status_code == 202
    assert json.loads(request.data)["params"] == {"platforms": ["meta", "linkedin"]}
    assert later == []  # the refused requests published nothing
