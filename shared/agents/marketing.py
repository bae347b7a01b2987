"""The marketing agent: spend, CAC and ROAS per acquisition channel."""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.marketing import MarketingReport, channel_performance
from shared.sample_data import SampleDataset


def analyse(dataset: SampleDataset, params: dict[str, Any]) -> MarketingReport:
    """Channel performance for the data set."""
    return channel_performance(dataset)


def facts(report: MarketingReport) -> dict[str, Any]:
    """The figures the prose may mention, and nothing else."""
    by_channel = {c.channel: c for c in report.channels}
    best = by_channel.get(report.best_channel) if report.best_channel else None
    worst = by_channel.get(report.worst_channel) if report.worst_channel else None
    return {
        "total_spend_cents": report.total_spend_cents,
        "new_customers": report.total_new_customers,
        "blended_cac_cents": report.blended_cac_cents,
        "blended_roas": report.blended_roas,
        "best_channel": report.best_channel,
        "best_roas": best.roas if best else None,
        "worst_channel": report.worst_channel,
        "worst_roas": worst.roas if worst else None,
    }


SPEC = AnalysisAgentSpec(
    name="marketing",
    analyse=analyse,
    facts=facts,
)


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The marketing agent's compiled graph."""
    return build_analysis_graph(SPEC)
