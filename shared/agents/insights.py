"""The customer-insights agent: RFM segments and churned customers."""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, ConfigDict

from shared.agents.analysis_graph import AnalysisAgentSpec, build_analysis_graph
from shared.analytics.bgnbd import churn_forecast
from shared.analytics.cohorts import monthly_cohort_retention
from shared.analytics.insights import InsightsReport, customer_segments
from shared.analytics.transactions import purchases_from_dataset
from shared.core.dataset import Dataset


class ChurnOutlook(BaseModel):
    """The BG/NBD summary the insights agent reports (per-customer scores stay out)."""

    model_config = ConfigDict(frozen=True)
    r: float
    alpha: float
    a: float
    b: float
    horizon_weeks: float
    expected_active_customers: float
    likely_churned_count: int
    likely_churned_share: float | None
    expected_purchases: float


COHORTS_KEPT = 12  # the last year of cohorts: enough for a heat map, small in Firestore


class CohortRow(BaseModel):
    """One monthly cohort: its first-purchase month, size and retention by months since."""

    model_config = ConfigDict(frozen=True)
    cohort: str
    customers: int
    retention: list[float]


class InsightsAgentReport(BaseModel):
    """RFM segments, the rule-based churned list, the BG/NBD outlook and cohort retention."""

    model_config = ConfigDict(frozen=True)
    segments: InsightsReport
    churn_after_days: int
    bg_nbd: ChurnOutlook
    average_retention: list[float | None]
    # The matrix behind the average (the report draws it as a heat map); the newest cohorts
    # last. Empty in reports stored before it was kept.
    cohort_retention: list[CohortRow] = []


def analyse(dataset: Dataset, params: dict[str, Any]) -> InsightsAgentReport:
    """RFM segments, churn by the policy's threshold and by BG/NBD, cohort retention."""
    churn_after_days = int(params["churn_after_days"])
    segments = customer_segments(dataset, churn_after_days=churn_after_days)
    purchases = purchases_from_dataset(dataset)
    forecast = churn_forecast(
        purchases, dataset.as_of, time_unit="weeks", horizon=float(params["bgnbd_horizon_weeks"])
    )
    outlook = ChurnOutlook(
        r=round(forecast.model.r, 4),
        alpha=round(forecast.model.alpha, 4),
        a=round(forecast.model.a, 4),
        b=round(forecast.model.b, 4),
        horizon_weeks=forecast.horizon,
        expected_active_customers=round(forecast.expected_active_customers, 1),
        likely_churned_count=forecast.likely_churned_count,
        likely_churned_share=forecast.likely_churned_share,
        expected_purchases=round(forecast.expected_purchases, 1),
    )
    cohorts = monthly_cohort_retention(purchases, dataset.as_of)
    return InsightsAgentReport(
        segments=segments,
        churn_after_days=churn_after_days,
        bg_nbd=outlook,
        average_retention=list(cohorts.average_retention),
        cohort_retention=[
            CohortRow(cohort=label, customers=size, retention=[round(v, 4) for v in row])
            for label, size, row in zip(
                cohorts.cohorts, cohorts.cohort_sizes, cohorts.retention, strict=True
            )
        ][-COHORTS_KEPT:],
    )


def facts(agent_report: InsightsAgentReport) -> dict[str, Any]:
    """The figures the prose may mention, and nothing else."""
    report, outlook = agent_report.segments, agent_report.bg_nbd
    retention = agent_report.average_retention
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
        "expected_active": outlook.expected_active_customers,
        "likely_churned": outlook.likely_churned_count,
        "horizon_weeks": outlook.horizon_weeks,
        "expected_purchases": outlook.expected_purchases,
        "month_3_retention": retention[3] if len(retention) > 3 else None,
    }


SPEC = AnalysisAgentSpec(
    name="insights",
    analyse=analyse,
    facts=facts,
)


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The insights agent's compiled graph."""
    return build_analysis_graph(SPEC)
