"""Week over week on the KPIs page: two weekly runs whose tasks hold the real agents' reports
(the sample shop a week apart), read back from Firestore as trends, in JSON and on the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import flask
import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.sample_source import SampleDataSource
from shared.agents.registry import run_analysis_agent
from shared.core.agent_settings import resolve_agent_settings
from shared.core.documents import RunDoc, TaskDoc
from shared.core.messages import AgentTask
from shared.core.models import RunStatus, TaskStatus
from shared.core.topology import AGENTS
from shared.gcp.firestore import firestore_safe
from shared.llm.offline import OfflineLLM
from tests.conftest import Emulators
from tests.helpers.status_client import BROWSER, status_client

pytestmark = pytest.mark.integration

FIRST = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
WEEKS = (date(2026, 11, 9), date(2026, 11, 16))


def _weekly_run(store: FirestoreStore, as_of: date, created: datetime) -> dict[str, dict]:
    run_id = f"weekly_gtm-{as_of.isoformat()}"
    data = SampleDataSource(as_of)
    tasks, reports = [], {}
    for agent in AGENTS:
        task = AgentTask(
            run_id=run_id, task_id=agent, agent=agent, workflow="weekly_gtm", params={}
        )
        outcome = run_analysis_agent(
            task, data=data, llm=OfflineLLM(), settings=resolve_agent_settings(agent)
        )
        reports[agent] = outcome.output["report"]
        tasks.append(
            TaskDoc(
                run_id=run_id, task_id=agent, agent=agent, status=TaskStatus.SUCCEEDED,
                created_at=created, finished_at=created + timedelta(seconds=5),
                output=firestore_safe(outcome.output),  # as the agent's own write
            )
        )  # fmt: skip
    run = RunDoc(
        run_id=run_id, workflow="weekly_gtm", trigger="schedule", status=RunStatus.SUCCEEDED,
        task_count=len(tasks), created_at=created,
    )  # fmt: skip
    assert store.create_run(run, tasks, [])
    return reports


@pytest.fixture
def seeded(clean_emulators: Emulators) -> tuple[flask.testing.FlaskClient, list[dict[str, dict]]]:
    store = FirestoreStore(clean_emulators.project)
    reports = [
        _weekly_run(store, as_of, FIRST + timedelta(weeks=n)) for n, as_of in enumerate(WEEKS)
    ]
    return status_client(), reports


def test_the_two_weekly_reports_are_two_points_of_each_trend_with_their_change(
    seeded: tuple[flask.testing.FlaskClient, list[dict[str, dict]]],
) -> None:
    client, reports = seeded
    answer = client.get("/api/kpis?since=2026-11-09&until=2026-11-16")
    trends = {t["key"]: t for t in answer.get_json()["business"]["trends"]}

    tickets = [r["support"]["this_window"]["ticket_count"] for r in reports]
    assert [p["value"] for p in trends["support_tickets"]["points"]] == tickets
    assert trends["support_tickets"]["latest"] == tickets[1]
    churned = [r["insights"]["segments"]["churned_count"] for r in reports]
    assert [p["value"] for p in trends["churned"]["points"]] == churned
    roas = [r["marketing"]["acquisition"]["blended_roas"] for r in reports]
    assert trends["roas"]["latest"] == roas[1] and trends["roas"]["previous"] == roas[0]
    assert {"revenue", "mrr", "nrr"} <= set(trends)
    assert trends["revenue"]["points"][-1]["label"] == "2026-10"  # the last complete month
    assert any(key.startswith("roas:") for key in trends)  # one trend per channel too


def test_the_business_tab_shows_the_week_over_week_table_and_charts(
    seeded: tuple[flask.testing.FlaskClient, list[dict[str, dict]]],
) -> None:
    client, _ = seeded
    html = client.get("/kpis?since=2026-11-09&until=2026-11-16", headers=BROWSER).get_data(
        as_text=True
    )

    assert "<h2>Week over week</h2>" in html
    assert "Monthly recurring revenue" in html and "€" in html
    assert 'aria-label="Support tickets, last 7 days, by weekly run"' in html
