"""Business trends from the weekly runs' stored reports: one point per succeeded run, gaps
where a report lacks a figure, and the change from the run before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.app.trends import business_trends
from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import RunStatus, TaskStatus

MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def weekly(
    week: int, status: RunStatus = RunStatus.SUCCEEDED, workflow: str = "weekly_gtm"
) -> RunDoc:
    return RunDoc(
        run_id=f"{workflow}-{week}",
        workflow=workflow,
        trigger="schedule",
        status=status,
        task_count=4,
        created_at=MONDAY + timedelta(weeks=week),
    )


def report_task(run: RunDoc, agent: str, report: dict[str, Any], ok: bool = True) -> TaskDoc:
    return TaskDoc(
        run_id=run.run_id,
        task_id=agent,
        agent=agent,
        status=TaskStatus.SUCCEEDED if ok else TaskStatus.FAILED,
        created_at=run.created_at,
        output={"report": report} if ok else None,
    )


def finance(revenue: int, month: str, mrr: int, nrr: float) -> dict[str, Any]:
    latest = {"month": month, "revenue_cents": revenue, "currency": "GBP"}
    return {
        "revenue": {"latest_complete_month": latest},
        "kpis": {"mrr_cents": mrr, "net_revenue_retention_latest_month": nrr},
    }


def marketing(*roas: tuple[str, float]) -> dict[str, Any]:
    channels = [{"channel": name, "roas": value} for name, value in roas]
    return {
        "acquisition": {"blended_roas": sum(v for _, v in roas) / len(roas), "channels": channels}
    }


def test_each_succeeded_weekly_run_is_a_point_in_run_order_with_its_change() -> None:
    runs = [
        weekly(2),
        weekly(0),
        weekly(1),
        weekly(3, RunStatus.FAILED),
        weekly(1, workflow="winback"),
    ]
    tasks = {
        "weekly_gtm-0": [
            report_task(runs[1], "finance", finance(100_000, "2026-09", 50_000, 1.02))
        ],
        "weekly_gtm-1": [
            report_task(runs[2], "finance", finance(125_000, "2026-10", 50_000, 0.99))
        ],
        "weekly_gtm-2": [
            report_task(runs[0], "finance", finance(150_000, "2026-10", 40_000, 1.01))
        ],
    }

    trends = {t.key: t for t in business_trends(runs, tasks)}

    revenue = trends["revenue"]
    assert [p.run_id for p in revenue.points] == ["weekly_gtm-0", "weekly_gtm-1", "weekly_gtm-2"]
    assert [p.value for p in revenue.points] == [100_000, 125_000, 150_000]
    assert (revenue.latest, revenue.previous, revenue.change) == (150_000, 125_000, 0.2)
    assert revenue.points[-1].label == "2026-10" and revenue.currency == "GBP"
    assert trends["mrr"].change == -0.2
    assert trends["nrr"].change == 0.02  # a share moves in points: 0.99 -> 1.01
    assert trends["nrr"].currency is None


def test_a_report_without_a_figure_leaves_a_gap_and_a_figure_no_run_has_is_left_out() -> None:
    runs = [weekly(0), weekly(1), weekly(2)]
    tasks = {
        "weekly_gtm-0": [
            report_task(runs[0], "marketing", marketing(("email", 4.0), ("social", 2.0)))
        ],
        "weekly_gtm-1": [report_task(runs[1], "marketing", {}, ok=False)],
        "weekly_gtm-2": [
            report_task(runs[2], "marketing", marketing(("email", 5.0), ("search", 3.0)))
        ],
    }

    trends = {t.key: t for t in business_trends(runs, tasks)}

    assert [p.value for p in trends["roas"].points] == [3.0, None, 4.0]
    assert (trends["roas"].previous, trends["roas"].change) == (3.0, 0.3333)
    assert [p.value for p in trends["roas:email"].points] == [4.0, None, 5.0]
    assert [p.value for p in trends["roas:search"].points] == [None, None, 3.0]
    assert trends["roas:search"].change is None  # one value: nothing to compare with
    assert "revenue" not in trends and "support_tickets" not in trends  # no run reported them
    assert trends["roas"].unit == "multiple"


def test_no_weekly_run_means_no_trend() -> None:
    assert business_trends([weekly(0, RunStatus.RUNNING), weekly(1, workflow="growth")], {}) == []
