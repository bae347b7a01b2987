"""The customer-insights agent: RFM segments and churned customers."""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.insights import InsightsReport, customer_segments
from shared.sample_data import SampleDataset


def analyse(dataset: SampleDataset, params: dict[str, Any]) -> InsightsReport:
    """RFM segments as of the data set's date, with the policy's churn threshold."""
    churn_after_days = int(params["churn_after_days"])
    return customer_segments(dataset, churn_after_days=churn_after_days)


def facts(report: InsightsReport) -> dict[str, Any]:
    """The figures the prose may mention, and nothing else."""
    largest = max(report.segments, key=lambda s: s.customer_count, default=None)
    top = report.top_churned[0] if report.top_churned else None
    return {
        "customers": report.customers_with_orders,
        "churned": report.churned_count,
        "churn_rate": report.churn_rate,
        "churn_after_days": report.churn_after_days,
        "churned_value_cents": report.churned_lifetime_value_cents,
        "largest_segment": largest.segment if largest else None,
        "largest_segment_count": largest.customer_count if largest else 0,
        "top_churned_value_cents": top.lifetime_value_cents if top else None,
    }


SPEC = AnalysisAgentSpec(
    name="insights",
    analyse=analyse,
    facts=facts,
)


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The insights agent's compiled graph."""
    return build_analysis_graph(SPEC)
