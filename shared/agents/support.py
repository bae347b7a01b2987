"""The support agent's weekly analysis: ticket volume, response times and satisfaction.

(The conversational support graph, answering customers from the knowledge base, is separate.)
"""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.support import SupportReport, ticket_summary
from shared.core.dataset import Dataset


def analyse(dataset: Dataset, params: dict[str, Any]) -> SupportReport:
    """Ticket statistics for the policy's window (seven days by default) and overall."""
    return ticket_summary(dataset, window_days=int(params["window_days"]))


def facts(report: SupportReport) -> dict[str, Any]:
    """The figures the prose may mention, and nothing else."""
    week = report.this_window
    trend = report.top_category_trend
    return {
        "window_days": report.window_days,
        "tickets": week.ticket_count,
        "previous_tickets": report.previous_window.ticket_count,
        "median_response_min": week.median_first_response_minutes,
        "p90_response_min": week.p90_first_response_minutes,
        "resolution_rate": week.resolution_rate,
        "csat": week.average_csat,
        "top_category": trend.category if trend else None,
        "top_category_count": trend.this_window_count if trend else 0,
        "top_category_previous": trend.previous_window_count if trend else 0,
    }


SPEC = AnalysisAgentSpec(
    name="support",
    analyse=analyse,
    facts=facts,
)


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The support agent's compiled graph."""
    return build_analysis_graph(SPEC)
