"""The KPIs page on seeded runs, effects and conversations, with every figure worked out by
hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_store import FirestoreStore
from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import LlmUsage, RunStatus, TaskStatus
from tests.conftest import Emulators
from tests.helpers.status_client import BROWSER, status_client
from tests.integration.test_status_stats import Seeder

pytestmark = pytest.mark.integration

D10 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
WINDOW = "since=2026-11-10&until=2026-11-12"


def _task(
    run_id: str,
    task_id: str,
    agent: str,
    day: datetime,
    status: TaskStatus = TaskStatus.SUCCEEDED,
    attempts: int = 1,
    usage: LlmUsage | None = None,
) -> TaskDoc:
    return TaskDoc(
        run_id=run_id,
        task_id=task_id,
        agent=agent,
        status=status,
        attempts=attempts,
        created_at=day,
        finished_at=day + timedelta(seconds=30),
        usage=usage or LlmUsage(),
    )


def _run(
    store: FirestoreStore,
    run_id: str,
    workflow: str,
    status: RunStatus,
    day: datetime,
    duration_s: float | None,
    tasks: list[TaskDoc],
) -> None:
    run = RunDoc(
        run_id=run_id,
        workflow=workflow,
        trigger="schedule",
        status=status,
        task_count=len(tasks),
        created_at=day,
        duration_s=duration_s,
    )
    assert store.create_run(run, tasks, [])


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    store = FirestoreStore(clean_emulators.project)
    gpt4o = LlmUsage(
        provider="openai", model="gpt-4o", tokens_in=1000, tokens_out=200, cost_usd=0.01, calls=2
    )
    mini = LlmUsage(
        provider="openai",
        model="gpt-4o-mini",
        tokens_in=300,
        tokens_out=150,
        cost_usd=0.0003,
        calls=1,
    )
    gemini = LlmUsage(
        provider="vertex",
        model="gemini-2.5-flash",
        tokens_in=500,
        tokens_out=100,
        cost_usd=0.002,
        calls=1,
    )
    # Weekly report, succeeded on the 10th in 60 s: finance on gpt-4o.
    _run(
        store,
        "w1",
        "weekly_gtm",
        RunStatus.SUCCEEDED,
        D10,
        60.0,
        [_task("w1", "finance", "finance", D10, usage=gpt4o)],
    )
    # Weekly report, failed on the 11th after 120 s: insights failed after 3 attempts.
    d11 = D10 + timedelta(days=1)
    _run(
        store,
        "w2",
        "weekly_gtm",
        RunStatus.FAILED,
        d11,
        120.0,
        [_task("w2", "insights", "insights", d11, TaskStatus.FAILED, 3, gemini)],
    )
    # Win-back, succeeded on the 12th in 300 s: one draft on gpt-4o-mini, two sends.
    d12 = D10 + timedelta(days=2)
    _run(
        store,
        "c1",
        "winback",
        RunStatus.SUCCEEDED,
        d12,
        300.0,
        [
            _task("c1", "draft-1", "marketing", d12, usage=mini),
            _task("c1", "send-1", "marketing", d12),
            _task("c1", "send-2", "marketing", d12),
        ],
    )
    # Two emails done, a third only intended (never counted), and a non-email effect.
    for step in ("email-1", "email-2", "email-3", "announce"):
        store.begin_effect("c1", step, d12)
    for step in ("email-1", "email-2", "announce"):
        store.complete_effect("c1", step, d12)
    # Still running on the 12th, and one from October outside the window.
    _run(
        store,
        "w3",
        "weekly_gtm",
        RunStatus.RUNNING,
        d12 + timedelta(hours=1),
        None,
        [TaskDoc(run_id="w3", task_id="finance", agent="finance", created_at=d12)],
    )
    _run(
        store,
        "old",
        "weekly_gtm",
        RunStatus.SUCCEEDED,
        D10 - timedelta(days=40),
        10.0,
        [_task("old", "finance", "finance", D10 - timedelta(days=40), usage=gpt4o)],
    )
    # Support: one answered by the agent in 30 s, one escalated and answered by a person
    # after 3600 s, one pending.
    seed = Seeder(FirestoreConversations(clean_emulators.project))
    m1 = seed.customer("generic", "a", "m1", D10)
    seed.agent_reply("generic:a", m1, D10 + timedelta(seconds=30))
    m2 = seed.customer("tiktok", "b", "m2", d11)
    seed.escalate("tiktok:b", m2, d11 + timedelta(seconds=5))
    seed.human_reply("tiktok:b", m2, d11 + timedelta(seconds=3600))
    seed.customer("generic", "c", "m3", d12)
    return status_client()


def test_business_figures_match_the_seeded_runs_effects_and_messages(
    client: flask.testing.FlaskClient,
) -> None:
    body = client.get(f"/api/kpis?{WINDOW}").get_json()
    business = body["business"]

    assert (body["since"], body["until"], body["runs_considered"], body["truncated"]) == (
        "2026-11-10",
        "2026-11-12",
        4,
        False,
    )
    assert business["runs_total"] == 4
    assert [(r["key"], r["total"], r["by_status"]) for r in business["runs_by_workflow"]] == [
        ("weekly_gtm", 3, {"failed": 1, "running": 1, "succeeded": 1}),
        ("winback", 1, {"succeeded": 1}),
    ]
    assert [(r["key"], r["by_status"]) for r in business["runs_by_day"]] == [
        ("2026-11-10", {"succeeded": 1}),
        ("2026-11-11", {"failed": 1}),
        ("2026-11-12", {"running": 1, "succeeded": 1}),
    ]
    assert (business["campaigns_started"], business["campaigns_succeeded"]) == (1, 1)
    assert business["emails_sent"] == 2  # done email effects only
    assert business["reports_delivered"] == 1
    support = business["support"]
    assert {k: v for k, v in support.items() if k != "by_day"} == {
        "messages": 3,
        "deflected": 1,
        "escalated": 1,
        "pending": 1,
        "deflection_rate": 0.3333,
        "escalation_rate": 0.3333,
        "first_response_median_s": 1815.0,  # median of 30 and 3600
        "escalations_answered": 1,
        "escalation_answer_median_s": 3600.0,
    }
    assert [
        (d["day"], d["deflected"], d["escalated"], d["pending"]) for d in support["by_day"]
    ] == [
        ("2026-11-10", 1, 0, 0),
        ("2026-11-11", 0, 1, 0),
        ("2026-11-12", 0, 0, 1),
    ]
    # Succeeded runs only: 60 and 300 s; p95 = 60 + 0.95 x 240.
    assert [(d["workflow"], d["runs"], d["p50_s"], d["p95_s"]) for d in business["turnaround"]] == [
        ("all", 2, 180.0, 288.0),
        ("weekly_gtm", 1, 60.0, 60.0),
        ("winback", 1, 300.0, 300.0),
    ]
    # 1 reply x 5 min + 2 emails x 3 min + 1 report x 120 min = 131 min.
    assert business["time_saved"]["hours"] == 2.18


def test_technical_figures_match_the_seeded_tasks(client: flask.testing.FlaskClient) -> None:
    technical = client.get(f"/api/kpis?{WINDOW}").get_json()["technical"]

    # Finished runs: w1, w2, c1; one failed.
    assert (technical["runs_finished"], technical["runs_failed"]) == (3, 1)
    assert technical["run_error_rate"] == 0.3333
    # Finished tasks: finance, insights, draft-1, send-1, send-2 (w3's is pending).
    assert (technical["tasks_finished"], technical["tasks_failed"]) == (5, 1)
    assert (technical["task_error_rate"], technical["tasks_retried"]) == (0.2, 1)
    # 60, 120, 300 s: p50 120, p95 = 120 + 0.9 x 180; weekly 60, 120: p95 = 60 + 0.95 x 60.
    assert [
        (d["workflow"], d["p50_s"], d["p95_s"], d["mean_s"]) for d in technical["durations"]
    ] == [
        ("all", 120.0, 282.0, 160.0),
        ("weekly_gtm", 90.0, 117.0, 90.0),
        ("winback", 300.0, 300.0, 300.0),
    ]

    def rows(name: str) -> list[tuple[Any, ...]]:
        return [
            (r["key"], r["tasks"], r["calls"], r["tokens_in"], r["tokens_out"], r["cost_usd"])
            for r in technical[name]
        ]

    assert rows("usage_by_agent") == [
        ("finance", 2, 2, 1000, 200, 0.01),  # w3's pending finance task counts, at zero
        ("insights", 1, 1, 500, 100, 0.002),
        ("marketing", 3, 1, 300, 150, 0.0003),
    ]
    assert rows("usage_by_provider") == [
        ("openai", 2, 3, 1300, 350, 0.0103),
        ("vertex", 1, 1, 500, 100, 0.002),
    ]
    assert rows("usage_by_model") == [
        ("gpt-4o", 1, 2, 1000, 200, 0.01),
        ("gemini-2.5-flash", 1, 1, 500, 100, 0.002),
        ("gpt-4o-mini", 1, 1, 300, 150, 0.0003),
    ]
    assert rows("usage_by_day") == [
        ("2026-11-10", 1, 2, 1000, 200, 0.01),
        ("2026-11-11", 1, 1, 500, 100, 0.002),
        ("2026-11-12", 4, 1, 300, 150, 0.0003),
    ]
    assert technical["usage_total"] == {
        "key": "all",
        "tasks": 6,
        "calls": 4,
        "tokens_in": 1800,
        "tokens_out": 450,
        "cost_usd": 0.0123,
    }
    # Insights' only task failed (w2), so it is failing and listed first; the agents with no
    # task in the window are idle; the window ends at 2026-11-13 00:00 UTC.
    health = {a["agent"]: a for a in technical["agent_health"]}
    assert [a["agent"] for a in technical["agent_health"]] == [
        "insights", "ads", "finance", "leads", "marketing", "support",
    ]  # fmt: skip
    assert (health["insights"]["state"], health["insights"]["why"]) == (
        "failing",
        "its latest task failed",
    )
    assert health["insights"]["last_failure_at"] == "2026-11-11T08:00:30Z"
    assert (health["insights"]["error_rate_recent"], health["insights"]["retried"]) == (1.0, 1)
    assert health["finance"]["state"] == "ok" and health["finance"]["tasks"] == 1
    assert health["finance"]["last_success_at"] == "2026-11-10T08:00:30Z"
    assert (health["marketing"]["tasks"], health["marketing"]["error_rate"]) == (3, 0.0)
    assert {health[a]["state"] for a in ("ads", "leads", "support")} == {"idle"}


def test_both_tabs_render_their_charts_as_inline_svg(client: flask.testing.FlaskClient) -> None:
    business = client.get(f"/kpis?{WINDOW}", headers=BROWSER).get_data(as_text=True)
    technical = client.get(f"/kpis?{WINDOW}&tab=technical", headers=BROWSER).get_data(as_text=True)

    assert business.count("<svg") == 2 and 'aria-label="Runs per day by status"' in business
    assert "<title>11-12: running 1</title>" in business
    assert 'Emails sent</div><div class="figure">2</div>' in business
    assert technical.count("<svg") == 6 and "<title>finance: 1,200</title>" in technical
    assert "<h2>Agent health</h2>" in technical and "● failing" in technical
    assert "<script" not in business.split("</header>")[1]  # no JavaScript needed


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2026-11-12&until=2026-11-10", "since must not be after until"),
        ("since=2026-01-01&until=2026-11-10", "at most 92 days"),
        ("tab=finance", "tab"),
        ("minutes_per_reply=-1", "minutes_per_reply"),
    ],
)
def test_bad_parameters_are_400(
    client: flask.testing.FlaskClient, query: str, message: str
) -> None:
    response = client.get(f"/api/kpis?{query}")

    assert response.status_code == 400 and message in response.get_json()["error"]
