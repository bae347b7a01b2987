"""The finance agent: revenue and growth by month, with prose around the computed figures."""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.finance import FinanceReport, revenue_by_month
from shared.sample_data import SampleDataset


def analyse(dataset: SampleDataset, params: dict[str, Any]) -> FinanceReport:
    """Revenue by month for the data set."""
    return revenue_by_month(dataset)


def facts(report: FinanceReport) -> dict[str, Any]:
    """The figures the prose may mention, and nothing else."""
    latest = report.latest_complete_month
    return {
        "latest_month": latest.month if latest else None,
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
