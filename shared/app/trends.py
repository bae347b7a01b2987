"""Business trends across weekly runs: the figures each weekly report computed, week after week
(pure).

Every succeeded weekly_gtm run keeps its agents' reports in its task documents
(runs/{run}/tasks/{agent}.output.report): together they are the time series, one point per
run, so nothing is stored twice. From each run:

    revenue          finance: the latest complete month's revenue (cents; the month named)
    mrr              finance: monthly recurring revenue (cents)
    nrr              finance: net revenue retention of the latest month (a share)
    churned          insights: customers counted as churned
    roas             marketing: blended return on ad spend, and per channel (roas:<channel>)
    support_tickets  support: tickets in the report's window (7 days)

A trend has its points in run order, the latest value, the one before and the change between
them (a share for money and counts, points of percentage for NRR). A run whose report lacks a
figure (the agent failed, the data has no subscriptions) leaves a gap, never a zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import RunStatus, TaskStatus

TREND_WORKFLOW = "weekly_gtm"
DEFAULT_CURRENCY = "EUR"
Unit = Literal["cents", "count", "share", "multiple"]


class TrendPoint(BaseModel):
    """One run's value of a figure (None: that run's report did not have it)."""

    run_id: str
    at: datetime
    value: float | None
    label: str = ""  # what the value is of, e.g. the month of a revenue figure


class Trend(BaseModel):
    """One figure across the window's weekly runs."""

    key: str
    title: str
    unit: Unit
    currency: str | None
    points: list[TrendPoint]
    latest: float | None
    previous: float | None
    change: float | None  # latest / previous - 1; for shares, latest - previous


def _report(tasks: Sequence[TaskDoc], agent: str) -> Mapping[str, Any]:
    for task in tasks:
        if task.agent == agent and task.status is TaskStatus.SUCCEEDED and task.output:
            report = task.output.get("report")
            if isinstance(report, dict):
                return report
    return {}


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


Extract = Callable[[Sequence[TaskDoc]], tuple[float | None, str]]


def _figure(agent: str, *path: str, label: tuple[str, ...] = ()) -> Extract:
    def extract(tasks: Sequence[TaskDoc]) -> tuple[float | None, str]:
        report = _report(tasks, agent)
        return _number(_dig(report, *path)), str(_dig(report, *label) or "") if label else ""

    return extract


FIGURES: tuple[tuple[str, str, Unit, Extract], ...] = (
    (
        "revenue",
        "Revenue, latest complete month",
        "cents",
        _figure(
            "finance",
            "revenue",
            "latest_complete_month",
            "revenue_cents",
            label=("revenue", "latest_complete_month", "month"),
        ),
    ),
    ("mrr", "Monthly recurring revenue", "cents", _figure("finance", "kpis", "mrr_cents")),
    (
        "nrr",
        "Net revenue retention",
        "share",
        _figure("finance", "kpis", "net_revenue_retention_latest_month"),
    ),
    ("churned", "Churned customers", "count", _figure("insights", "segments", "churned_count")),
    (
        "roas",
        "Return on ad spend, all channels",
        "multiple",
        _figure("marketing", "acquisition", "blended_roas"),
    ),
    (
        "support_tickets",
        "Support tickets, last 7 days",
        "count",
        _figure("support", "this_window", "ticket_count"),
    ),
)


def business_trends(
    runs: Sequence[RunDoc], tasks_by_run: Mapping[str, list[TaskDoc]]
) -> list[Trend]:
    """The trends of the window's succeeded weekly runs, oldest run first."""
    weekly = sorted(
        (r for r in runs if r.workflow == TREND_WORKFLOW and r.status is RunStatus.SUCCEEDED),
        key=lambda r: (r.created_at, r.run_id),
    )
    currency = _currency(weekly, tasks_by_run)
    trends = [
        _trend(key, title, unit, currency, weekly, tasks_by_run, extract)
        for key, title, unit, extract in FIGURES
    ]
    for channel in _channels(weekly, tasks_by_run):
        trends.append(
            _trend(
                f"roas:{channel}",
                f"Return on ad spend, {channel}",
                "multiple",
                currency,
                weekly,
                tasks_by_run,
                _channel_roas(channel),
            )
        )
    return [t for t in trends if any(p.value is not None for p in t.points)]


def _trend(
    key: str,
    title: str,
    unit: Unit,
    currency: str,
    runs: Sequence[RunDoc],
    tasks_by_run: Mapping[str, list[TaskDoc]],
    extract: Extract,
) -> Trend:
    points = []
    for run in runs:
        value, label = extract(tasks_by_run.get(run.run_id, []))
        points.append(TrendPoint(run_id=run.run_id, at=run.created_at, value=value, label=label))
    known = [p.value for p in points if p.value is not None]
    latest = known[-1] if known else None
    previous = known[-2] if len(known) > 1 else None
    change = None
    if latest is not None and previous is not None:
        if unit == "share":
            change = round(latest - previous, 4)
        elif previous != 0:
            change = round(latest / previous - 1, 4)
    return Trend(
        key=key,
        title=title,
        unit=unit,
        currency=currency if unit == "cents" else None,
        points=points,
        latest=latest,
        previous=previous,
        change=change,
    )


def _channels(runs: Sequence[RunDoc], tasks_by_run: Mapping[str, list[TaskDoc]]) -> list[str]:
    names: set[str] = set()
    for run in runs:
        report = _report(tasks_by_run.get(run.run_id, []), "marketing")
        for channel in _dig(report, "acquisition", "channels") or []:
            if isinstance(channel, dict) and channel.get("channel"):
                names.add(str(channel["channel"]))
    return sorted(names)


def _channel_roas(channel: str) -> Extract:
    def extract(tasks: Sequence[TaskDoc]) -> tuple[float | None, str]:
        report = _report(tasks, "marketing")
        for row in _dig(report, "acquisition", "channels") or []:
            if isinstance(row, dict) and row.get("channel") == channel:
                return _number(row.get("roas")), ""
        return None, ""

    return extract


def _currency(runs: Sequence[RunDoc], tasks_by_run: Mapping[str, list[TaskDoc]]) -> str:
    """The currency the newest finance report names anywhere in it (the sample's EUR if none)."""
    for run in reversed(runs):
        found = _find_key(_report(tasks_by_run.get(run.run_id, []), "finance"), "currency")
        if found:
            return found
    return DEFAULT_CURRENCY


def _find_key(value: Any, key: str) -> str | None:
    if isinstance(value, dict):
        if isinstance(value.get(key), str):
            return str(value[key])
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _find_key(item, key)
            if found:
                return found
    return None
