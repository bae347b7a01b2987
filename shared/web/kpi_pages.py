"""Status page route of the KPIs: business and technical figures over a window of days, and
the charts drawn from them (shared/web/charts.py draws).

    GET /kpis    ?since=&until=&tab=business|technical
"""

from __future__ import annotations

from datetime import date, timedelta

import flask
from markupsafe import Markup

from shared.app.kpis import KpiParams, Kpis, gather_kpis
from shared.app.trends import Trend
from shared.core.models import utcnow
from shared.web.charts import Series, bar_chart, column_chart
from shared.web.formats import (
    NO_FIGURE,
    change,
    money,
    month_name,
    multiple,
    percent,
    whole_money,
)
from shared.web.pages import render_html
from shared.web.report_charts import Line, line_chart
from shared.web.responses import json_response
from shared.web.router import Routes
from shared.wiring.services import conversations, services, status_records

NO_COST = "No LLM cost in this window (the offline provider and cached answers cost nothing)."

routes = Routes()


@routes.route("GET", r"/kpis")
def _kpis_page(request: flask.Request, as_json: bool) -> flask.Response:
    params = KpiParams.parse(request.args)
    kpis = gather_kpis(
        params,
        store=services().store,
        conversations=conversations(),
        effects=status_records(),
        today=utcnow().date(),
        error_rate_alert=services().settings.agent_error_rate_alert,
    )
    if as_json:
        return json_response(kpis.model_dump(mode="json"))
    alert = services().settings.agent_error_rate_alert
    charts = _kpi_charts(kpis, params)
    trends = [_trend_view(t) for t in kpis.business.trends] if params.tab == "business" else []
    return render_html(
        "kpis.html", kpis=kpis, params=params, charts=charts, alert=alert, trends=trends
    )


def _figure(trend: Trend, value: float | None, whole: bool = False) -> str:
    if value is None:
        return NO_FIGURE
    if trend.unit == "cents":
        return (whole_money if whole else money)(value, trend.currency or "EUR")
    if trend.unit == "share":
        return percent(value)
    if trend.unit == "multiple":
        return multiple(value)
    return f"{value:,.0f}"


def _trend_view(trend: Trend) -> dict[str, object]:
    """One row of the week-over-week table, with its line chart."""
    if trend.change is None:
        moved = NO_FIGURE
    elif trend.unit == "share":
        moved = f"{'+' if trend.change >= 0 else chr(0x2212)}{abs(trend.change) * 100:.1f} points"
    else:
        moved = change(trend.change)
    labels = [p.at.strftime("%d %b") for p in trend.points]
    values = [p.value for p in trend.points]
    latest = next((p for p in reversed(trend.points) if p.value is not None), None)
    return {
        "title": trend.title,
        "latest": _figure(trend, trend.latest),
        "of": month_name(latest.label) if latest and latest.label else "",
        "previous": _figure(trend, trend.previous),
        "change": moved,
        "runs": sum(1 for v in values if v is not None),
        "chart": line_chart(
            f"{trend.title}, by weekly run",
            labels,
            [Line(trend.title, values)],
            fmt=lambda v: _figure(trend, v, whole=True),
        ),
    }


def _days(since: date, until: date) -> list[str]:
    return [(since + timedelta(days=n)).isoformat() for n in range((until - since).days + 1)]


def _money(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def _kpi_charts(kpis: Kpis, params: KpiParams) -> dict[str, Markup]:
    days = _days(kpis.since, kpis.until)
    labels = [day[5:] for day in days]  # MM-DD
    if params.tab == "business":
        by_day = {row.key: row.by_status for row in kpis.business.runs_by_day}
        statuses = sorted({s for counts in by_day.values() for s in counts})
        support = {row.day.isoformat(): row for row in kpis.business.support.by_day}
        return {
            "runs_per_day": column_chart(
                "Runs per day by status",
                labels,
                [Series(s, [by_day.get(d, {}).get(s, 0) for d in days]) for s in statuses],
            ),
            "support_per_day": column_chart(
                "Customer messages per day: deflected, escalated, pending",
                labels,
                [
                    Series(name, [getattr(support[d], name) if d in support else 0 for d in days])
                    for name in ("deflected", "escalated", "pending")
                ],
            ),
        }
    technical = kpis.technical
    cost = {row.key: row.cost_usd for row in technical.usage_by_day}
    tokens = {row.key: row.tokens_in + row.tokens_out for row in technical.usage_by_day}
    return {
        "durations": column_chart(
            "Run duration p50 and p95 by workflow (seconds)",
            [d.workflow for d in technical.durations],
            [
                Series("p50", [d.p50_s or 0 for d in technical.durations], "#2f6fde"),
                Series("p95", [d.p95_s or 0 for d in technical.durations], "#a15c07"),
            ],
            stacked=False,
        ),
        "cost_per_day": column_chart(
            "LLM cost per day (USD)",
            labels,
            [Series("cost", [cost.get(d, 0) for d in days])],
            fmt=_money,
            empty=NO_COST,
        ),
        "tokens_per_day": column_chart(
            "Tokens per day", labels, [Series("tokens", [tokens.get(d, 0) for d in days])]
        ),
        "tokens_by_agent": bar_chart(
            "Tokens by agent",
            [(r.key, r.tokens_in + r.tokens_out) for r in technical.usage_by_agent],
        ),
        "cost_by_agent": bar_chart(
            "Cost by agent (USD)",
            [(r.key, r.cost_usd) for r in technical.usage_by_agent],
            fmt=_money,
            colour="#17803d",
            empty=NO_COST,
        ),
        "cost_by_provider": bar_chart(
            "Cost by provider (USD)",
            [(r.key, r.cost_usd) for r in technical.usage_by_provider],
            fmt=_money,
            colour="#6941c6",
            empty=NO_COST,
        ),
    }
