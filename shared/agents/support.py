"""The support agent's weekly analysis: ticket volume, response times and satisfaction.

(The conversational support graph, answering customers from the knowledge base, is separate.)
"""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.support import SupportReport, ticket_summary
from shared.sample_data import SampleDataset


def analyse(dataset: SampleDataset, params: dict[str, Any]) -> SupportReport:
    """Ticket statistics for the last seven days and overall."""
    return ticket_summary(dataset, window_days=int(params.get("window_days", 7)))


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
    system_prompt=(
        "You are the head of customer support of a small company. Write two or three sentences "
        "for the weekly report. Use only the figures given."
    ),
    prompt_template=(
        "{{ tickets }} tickets in the last {{ window_days }} days (previous: {{ previous_tickets }}); "
        "median first response {{ median_response_min }} min, p90 {{ p90_response_min }} min; "
        "resolution rate {{ resolution_rate | share }}; CSAT {{ csat }}. Top category {{ top_category }} "
        "({{ top_category_count }} vs {{ top_category_previous }})."
    ),
    offline_template=(
        "Support handled {{ tickets }} tickets in the last {{ window_days }} days "
        "(previous {{ window_days }} days: {{ previous_tickets }}). "
        "{% if tickets %}Median first response was {{ median_response_min | num }} minutes "
        "(p90 {{ p90_response_min | num }}), {{ resolution_rate | share }} were "
        "resolved{% if csat %} and CSAT averaged {{ csat }}{% endif %}. The top category was "
        "{{ top_category }} ({{ top_category_count }} tickets, {{ top_category_previous }} the "
        "week before).{% endif %}"
    ),
    headline_template="{{ tickets }} tickets, top category {{ top_category }}",
)


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The support agent's compiled graph."""
    return build_analysis_graph(SPEC)
