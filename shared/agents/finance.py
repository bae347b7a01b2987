"""The finance agent: revenue and growth by month, with prose around the computed figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, ConfigDict

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.finance import FinanceReport, revenue_by_month
from shared.analytics.forecast import SeriesForecast, forecast_revenue
from shared.analytics.recurring_revenue import Subscription as BillingSubscription
from shared.analytics.unit_economics import FinanceKpis, finance_kpis
from shared.core.dataset import Dataset


class FinanceAgentReport(BaseModel):
    """Everything the finance agent computed: revenue, KPIs and the revenue forecast."""

    model_config = ConfigDict(frozen=True)
    revenue: FinanceReport
    kpis: FinanceKpis
    forecast: SeriesForecast | None


def analyse(dataset: Dataset, params: dict[str, Any]) -> FinanceAgentReport:
    """Revenue by month, MRR/NRR/unit economics, and a forecast with its backtest."""
    subscriptions = [
        BillingSubscription(
            customer_id=s.customer_id,
            start_date=s.start_date,
            end_date=s.end_date,
            monthly_amount_cents=s.monthly_amount_cents,
        )
        for s in dataset.subscriptions
    ]
    kpis = finance_kpis(
        dataset, gross_margin=float(params["gross_margin"]), subscriptions=subscriptions
    )
    try:
        forecast = forecast_revenue(dataset, horizon=int(params["forecast_horizon_months"]))
    except ValueError:  # not enough complete months to fit anything
        forecast = None
    return FinanceAgentReport(revenue=revenue_by_month(dataset), kpis=kpis, forecast=forecast)


def _month_name(key: str) -> str:
    """ "2026-10" -> "October 2026"."""
    year, month = (int(part) for part in key.split("-")[:2])
    return date(year, month, 1).strftime("%B %Y")


def facts(agent_report: FinanceAgentReport) -> dict[str, Any]:
    """The figures the prose may mention, and nothing else."""
    report, kpis, forecast = agent_report.revenue, agent_report.kpis, agent_report.forecast
    latest = report.latest_complete_month
    next_point = forecast.points[0] if forecast and forecast.points else None
    backtest = forecast.backtest if forecast else None
    return {
        "mrr_cents": kpis.mrr_cents,
        "nrr": kpis.net_revenue_retention_latest_month,
        "ltv_to_cac": kpis.unit_economics.ltv_to_cac,
        "payback_months": kpis.unit_economics.payback_months,
        "forecast_period": _month_name(next_point.period) if next_point else None,
        "forecast_mean_cents": round(next_point.mean) if next_point else None,
        "forecast_lower_cents": round(next_point.lower) if next_point else None,
        "forecast_upper_cents": round(next_point.upper) if next_point else None,
        "forecast_model": forecast.model if forecast else None,
        "forecast_beats_baseline": backtest.beats_baseline if backtest else None,
        "latest_month": _month_name(latest.month) if latest else None,
        # The period said plainly: the data's last day, and so the last complete month.
        "data_end": f"{report.as_of.day} {report.as_of:%B %Y}",
        "forecast_baseline": backtest.baseline if backtest else None,
        "latest_revenue_cents": latest.revenue_cents if latest else None,
        "latest_orders": latest.order_count if latest else 0,
        "latest_growth": report.latest_complete_month_growth,
        "trailing_3m_cents": report.trailing_3_months_revenue_cents,
        "trailing_3m_growth": report.trailing_3_months_growth,
        "total_revenue_cents": report.total_revenue_cents,
        "aov_cents": report.average_order_value_cents,
        "months": len(report.months),
    }


SPEC = AnalysisAgentSpec(
    name="finance",
    analyse=analyse,
    facts=facts,
)


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The finance agent's compiled graph."""
    return build_analysis_graph(SPEC)
