"""The marketing agent: channel efficiency, the statistics behind it, a budget shift proposal,
and a campaign brief with A/B subject lines drafted around the computed figures."""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, ConfigDict, Field

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.campaigns import (
    BudgetShift,
    CampaignRow,
    ChannelFunnelReport,
    channel_funnels,
    propose_budget_shift,
)
from shared.analytics.marketing import MarketingReport, channel_performance
from shared.core.dataset import Dataset


class MarketingAgentReport(BaseModel):
    """Acquisition by channel, campaign funnels with significance, and the proposed shift."""

    model_config = ConfigDict(frozen=True)
    acquisition: MarketingReport
    funnels: ChannelFunnelReport | None
    budget_shift: BudgetShift | None


class CampaignDrafts(BaseModel):
    """What the agent drafts for a person to review: never sent without approval."""

    brief: str = Field(min_length=1, max_length=2000)
    subject_a: str = Field(min_length=1, max_length=120)
    subject_b: str = Field(min_length=1, max_length=120)
    email_body: str = Field(min_length=1, max_length=3000)


def analyse(dataset: Dataset, params: dict[str, Any]) -> MarketingAgentReport:
    """Channel performance from orders, funnels from campaign rows, and a bounded shift."""
    rows = [
        CampaignRow(
            channel=c.channel,
            impressions=c.impressions,
            clicks=c.clicks,
            conversions=c.conversions,
            spend_cents=c.spend_cents,
            revenue_cents=c.revenue_cents,
        )
        for c in dataset.campaigns
    ]
    funnels = channel_funnels(rows, alpha=float(params["significance_alpha"])) if rows else None
    shift = (
        propose_budget_shift(
            funnels,
            fraction=float(params["shift_fraction"]),
            max_increase=float(params["shift_max_increase"]),
        )
        if funnels
        else None
    )
    return MarketingAgentReport(
        acquisition=channel_performance(dataset), funnels=funnels, budget_shift=shift
    )


def facts(agent_report: MarketingAgentReport) -> dict[str, Any]:
    """The figures the prose may mention, and nothing else."""
    report, funnels, shift = (
        agent_report.acquisition,
        agent_report.funnels,
        agent_report.budget_shift,
    )
    by_channel = {c.channel: c for c in report.channels}
    best = by_channel.get(report.best_channel) if report.best_channel else None
    worst = by_channel.get(report.worst_channel) if report.worst_channel else None
    best_funnel = (
        next((c for c in funnels.channels if c.channel == best.channel), None)
        if funnels and best
        else None
    )
    return {
        "total_spend_cents": report.total_spend_cents,
        "new_customers": report.total_new_customers,
        "blended_cac_cents": report.blended_cac_cents,
        "blended_roas": report.blended_roas,
        "best_channel": report.best_channel,
        "best_roas": best.roas if best else None,
        "worst_channel": report.worst_channel,
        "worst_roas": worst.roas if worst else None,
        "best_cvr": best_funnel.cvr if best_funnel else None,
        "significant_pairs": len(funnels.significant_pairs) if funnels else 0,
        "tested_pairs": len(funnels.pairs) if funnels else 0,
        "shift_from": shift.from_channel if shift else None,
        "shift_to": shift.to_channel if shift else None,
        "shift_cents": shift.shift_cents if shift else None,
        "shift_revenue_change_cents": shift.expected_revenue_change_cents if shift else None,
    }


SPEC = AnalysisAgentSpec(
    name="marketing", analyse=analyse, facts=facts, drafts_schema=CampaignDrafts
)


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The marketing agent's compiled graph."""
    return build_analysis_graph(SPEC)
