"""A run's report as a page: the headline figures an owner looks for first, then each agent's
section with its prose, its charts and the table behind each chart.

Built from what the agents stored on their tasks (`output["report"]`, the figures computed
with code, and `output["summary"]`, the prose around them), so the page shows exactly the
numbers the Markdown report and numbers.json hold. An agent this module has no charts for
still gets its prose; a failed task says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import TaskStatus
from shared.web.charts import Series, bar_chart, column_chart
from shared.web.formats import (
    NO_FIGURE,
    change,
    day_name,
    money,
    month_name,
    multiple,
    percent,
    whole_money,
)
from shared.web.report_charts import Band, Line, heat_map, line_chart

MONTHS_CHARTED = 12
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@dataclass(frozen=True)
class Headline:
    """One row of the headline table."""

    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Table:
    """The figures behind a chart, as text."""

    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


@dataclass(frozen=True)
class Figure:
    """A chart with its title, its caption and the table of the same figures."""

    title: str
    chart: Markup
    caption: str = ""
    table: Table | None = None


@dataclass
class Section:
    """One agent's part of the report."""

    agent: str
    title: str
    prose: Markup = field(default_factory=Markup)
    figures: list[Figure] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class ReportView:
    """Everything the report page shows."""

    title: str
    period: str
    headlines: list[Headline]
    sections: list[Section]
    offline: bool


AGENT_TITLES = {
    "finance": "Finance",
    "marketing": "Marketing",
    "insights": "Customer insights",
    "support": "Customer support",
}


def build_report_view(run: RunDoc, tasks: list[TaskDoc], workflow_title: str) -> ReportView:
    """The page of a run's report, from its tasks' stored outputs."""
    reports = {
        t.agent: t.output["report"]
        for t in tasks
        if t.status is TaskStatus.SUCCEEDED
        and t.output
        and isinstance(t.output.get("report"), dict)
    }
    currency = _currency(reports)
    headlines: list[Headline] = []
    sections: list[Section] = []
    for task in sorted(tasks, key=lambda t: (_order(t.agent), t.task_id)):
        section = Section(task.agent, AGENT_TITLES.get(task.agent, task.agent.capitalize()))
        if task.status is not TaskStatus.SUCCEEDED or not task.output:
            section.error = task.error or f"no result ({task.status.value})"
            sections.append(section)
            continue
        section.prose = Markup(_MARKDOWN.render(str(task.output.get("summary", "")).strip()))
        report = reports.get(task.agent)
        describe = _DESCRIBERS.get(task.agent)
        if report is not None and describe is not None:
            found, section.figures = describe(report, currency)
            headlines += found
        sections.append(section)
    as_of = next((r.get("as_of") for r in _walk_dicts(reports) if r.get("as_of")), None)
    period = f"Figures to {day_name(as_of)}, the last day of the data." if as_of else ""
    return ReportView(
        title=f"{workflow_title} — {day_name(run.created_at.date())}",
        period=period,
        headlines=headlines,
        sections=sections,
        offline=any((t.output or {}).get("offline") for t in tasks),
    )


def _order(agent: str) -> int:
    return list(AGENT_TITLES).index(agent) if agent in AGENT_TITLES else len(AGENT_TITLES)


def _walk_dicts(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found += _walk_dicts(item)
    return found


def _currency(reports: dict[str, Any]) -> str:
    for found in _walk_dicts(reports):
        if isinstance(found.get("currency"), str):
            return str(found["currency"])
    return "EUR"


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# --- per agent ------------------------------------------------------------------------------

Describer = Callable[[dict[str, Any], str], tuple[list[Headline], list[Figure]]]


def _finance(report: dict[str, Any], currency: str) -> tuple[list[Headline], list[Figure]]:
    headlines: list[Headline] = []
    months = [m for m in _get(report, "revenue", "months") or [] if m.get("complete")]
    latest = _get(report, "revenue", "latest_complete_month")
    if latest:
        growth = latest.get("growth_vs_previous_month")
        headlines.append(
            Headline(
                f"Revenue, {month_name(latest['month'])}",
                money(latest["revenue_cents"], currency),
                f"{change(growth)} on the month before" if growth is not None else "",
            )
        )
    kpis = report.get("kpis") or {}
    if kpis.get("mrr_cents") is not None:
        headlines.append(
            Headline(
                "Monthly recurring revenue",
                money(kpis["mrr_cents"], currency),
                f"ARR {money(kpis.get('arr_cents'), currency)}",
            )
        )
    if kpis.get("net_revenue_retention_latest_month") is not None:
        headlines.append(
            Headline(
                "Net revenue retention",
                percent(kpis["net_revenue_retention_latest_month"]),
                "latest month; above 100% the customers kept grew their spend",
            )
        )
    forecast = report.get("forecast") or {}
    points = forecast.get("points") or []
    if points:
        first, level = points[0], forecast.get("interval_level") or 0.8
        headlines.append(
            Headline(
                f"Revenue forecast, {month_name(first['period'])}",
                money(first["mean"], currency),
                f"{percent(level, 0)} interval {whole_money(first['lower'], currency)} to "
                f"{whole_money(first['upper'], currency)} ({forecast.get('model', 'model')})",
            )
        )
    shown = months[-MONTHS_CHARTED:]
    future = [p for p in points if p["period"] not in {m["month"] for m in shown}]
    labels = [m["month"] for m in shown] + [p["period"] for p in future]
    history: list[float | None] = [float(m["revenue_cents"]) for m in shown]
    history += [None] * len(future)
    ahead: list[float | None] = [None] * len(labels)
    lower: list[float | None] = [None] * len(labels)
    upper: list[float | None] = [None] * len(labels)
    if shown and future:
        ahead[len(shown) - 1] = history[len(shown) - 1]
        for i, point in enumerate(future, start=len(shown)):
            ahead[i], lower[i], upper[i] = point["mean"], point["lower"], point["upper"]
    figures = []
    if shown:
        incomplete = [m for m in _get(report, "revenue", "months") or [] if not m.get("complete")]
        note = (
            f" {month_name(incomplete[-1]['month'])} is not complete yet and is left out."
            if incomplete
            else ""
        )
        figures.append(
            Figure(
                f"Revenue by month, with the forecast ({currency})",
                line_chart(
                    f"Revenue by month ({currency})",
                    [month_name(label)[:3] + " " + label[2:4] for label in labels],
                    [Line("Revenue", history), Line("Forecast", ahead, "#6941c6")],
                    band=Band("Forecast interval", lower, upper) if future else None,
                    fmt=lambda v: whole_money(v, currency),
                ),
                "Revenue of each complete month, then the forecast with its interval." + note,
                Table(
                    ("Month", "Revenue", "Orders", "Average order", "Change"),
                    [
                        (
                            month_name(m["month"]),
                            money(m["revenue_cents"], currency),
                            f"{m['order_count']:,}",
                            money(m["average_order_value_cents"], currency),
                            change(m.get("growth_vs_previous_month")),
                        )
                        for m in shown
                    ],
                ),
            )
        )
    return headlines, figures


def _marketing(report: dict[str, Any], currency: str) -> tuple[list[Headline], list[Figure]]:
    acquisition = report.get("acquisition") or {}
    channels = acquisition.get("channels") or []
    by_name = {c["channel"]: c for c in channels}
    headlines = []
    for label, key in (("Best channel", "best_channel"), ("Worst channel", "worst_channel")):
        name = acquisition.get(key)
        if name:
            roas = by_name.get(name, {}).get("roas")
            headlines.append(Headline(label, str(name), f"return on ad spend {multiple(roas)}"))
    if not channels:
        return headlines, []
    table = Table(
        ("Channel", "Spend", "New customers", "Cost per customer", "Revenue", "ROAS"),
        [
            (
                c["channel"],
                money(c["spend_cents"], currency),
                f"{c['new_customers']:,}",
                money(c.get("cac_cents"), currency),
                money(c["revenue_cents"], currency),
                multiple(c.get("roas")),
            )
            for c in channels
        ],
    )
    figure = Figure(
        "Return on ad spend by channel",
        bar_chart(
            "Return on ad spend by channel",
            [(c["channel"], float(c.get("roas") or 0)) for c in channels],
            fmt=multiple,
        ),
        f"Revenue per unit of spend since {day_name(acquisition.get('attribution_start'))}; "
        f"blended {multiple(acquisition.get('blended_roas'))}.",
        table,
    )
    return headlines, [figure]


def _insights(report: dict[str, Any], currency: str) -> tuple[list[Headline], list[Figure]]:
    segments = report.get("segments") or {}
    headlines = []
    if segments.get("churned_count") is not None:
        headlines.append(
            Headline(
                "Churned customers",
                f"{segments['churned_count']:,}",
                f"lifetime value {money(segments.get('churned_lifetime_value_cents'), currency)}"
                f"; no order for {segments.get('churn_after_days', '?')} days",
            )
        )
    figures = []
    sizes = segments.get("segments") or []
    if sizes:
        figures.append(
            Figure(
                "Customers by RFM segment",
                bar_chart(
                    "Customers by RFM segment",
                    [(s["segment"].replace("_", " "), float(s["customer_count"])) for s in sizes],
                ),
                "Segments by how recently, how often and how much customers bought.",
                Table(
                    ("Segment", "Customers", "Share", "Revenue"),
                    [
                        (
                            s["segment"].replace("_", " "),
                            f"{s['customer_count']:,}",
                            percent(s.get("share_of_customers")),
                            money(s.get("revenue_cents"), currency),
                        )
                        for s in sizes
                    ],
                ),
            )
        )
    cohorts = report.get("cohort_retention") or []
    if cohorts:
        width = max(len(c["retention"]) for c in cohorts)
        figures.append(
            Figure(
                "Retention by monthly cohort (columns: months after the first purchase)",
                heat_map(
                    "Retention by monthly cohort",
                    [f"{month_name(c['cohort'])[:3]} {c['cohort'][:4]}" for c in cohorts],
                    [str(k) for k in range(width)],
                    [
                        list(c["retention"]) + [None] * (width - len(c["retention"]))
                        for c in cohorts
                    ],
                ),
                "Share of each month's new customers who bought again 0, 1, 2, ... months "
                "later (column 0 is always 100%; the newest month may be incomplete).",
            )
        )
    return headlines, figures


def _support(report: dict[str, Any], currency: str) -> tuple[list[Headline], list[Figure]]:
    this, before = report.get("this_window") or {}, report.get("previous_window") or {}
    headlines = []
    if this.get("ticket_count") is not None:
        count, earlier = this["ticket_count"], before.get("ticket_count")
        detail = ""
        if earlier:
            detail = f"{change(count / earlier - 1)} on the {earlier:,} the week before"
        headlines.append(
            Headline(
                f"Support tickets, last {report.get('window_days', 7)} days", f"{count:,}", detail
            )
        )
    categories = sorted(set(this.get("by_category") or {}) | set(before.get("by_category") or {}))
    if not categories:
        return headlines, []
    now = [float((this.get("by_category") or {}).get(c, 0)) for c in categories]
    then = [float((before.get("by_category") or {}).get(c, 0)) for c in categories]
    response = this.get("median_first_response_minutes", NO_FIGURE)
    resolved = percent(this.get("resolution_rate"), 0)
    caption = f"Median first response {response} minutes this week; {resolved} resolved."
    figure = Figure(
        "Support tickets by category",
        column_chart(
            "Support tickets by category",
            categories,
            [Series("This week", now, "#2f6fde"), Series("The week before", then, "#98a2b3")],
            stacked=False,
        ),
        caption,
        Table(
            ("Category", "This week", "The week before"),
            [(c, f"{a:,.0f}", f"{b:,.0f}") for c, a, b in zip(categories, now, then, strict=True)],
        ),
    )
    return headlines, [figure]


_DESCRIBERS: dict[str, Describer] = {
    "finance": _finance,
    "marketing": _marketing,
    "insights": _insights,
    "support": _support,
}
