"""Weekly go-to-market report: the four agents analyse the week in parallel, one report."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.core.documents import RunDoc, TaskDoc
from shared.core.topology import AGENTS
from shared.workflows.params import MarketingPolicyParams, policy_default
from shared.workflows.report import build_run_report, numbers_rows
from shared.workflows.spec import RunHistory, RunOutcome, Step, TaskSpec, Workflow


class WeeklyGtmParams(MarketingPolicyParams):
    """What a weekly report run may set: the four agents' policy values, for this run."""

    window_days: int = Field(
        default=policy_default("support", "window_days"),
        ge=1,
        le=366,
        description="Support: days in the ticket report's 'this week' window",
    )
    churn_after_days: int = Field(
        default=policy_default("insights", "churn_after_days"),
        ge=1,
        le=3650,
        description="Insights: a customer with no order for this many days counts as churned",
    )
    bgnbd_horizon_weeks: float = Field(
        default=policy_default("insights", "bgnbd_horizon_weeks"),
        gt=0,
        le=520,
        description="Insights: weeks the BG/NBD expected purchases cover",
    )
    gross_margin: float = Field(
        default=policy_default("finance", "gross_margin"),
        gt=0,
        le=1,
        description="Finance: share of revenue left after cost of goods, for LTV",
    )
    forecast_horizon_months: int = Field(
        default=policy_default("finance", "forecast_horizon_months"),
        ge=1,
        le=24,
        description="Finance: months the revenue forecast covers",
    )


def plan_analyses(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One task per agent, each with the run's parameters; the task id is the agent."""
    return [TaskSpec(task_id=agent, agent=agent, input=dict(run.params)) for agent in AGENTS]


def report_week(run: RunDoc, tasks: list[TaskDoc], now: datetime) -> RunOutcome:
    """The weekly report (Markdown, HTML, figures) and one sheet row per figure."""
    report = build_run_report(run, tasks, now)
    rows = [[run.run_id, agent, metric, value] for agent, metric, value in numbers_rows(tasks)]
    return RunOutcome(summary=report.summary, artifacts=report.artifacts, rows=rows)


WEEKLY_GTM = Workflow(
    name="weekly_gtm",
    title="Weekly go-to-market report",
    description="Marketing, finance, insights and support analyse the week in parallel.",
    steps=(
        Step(name="analyse", title="Agents analyse the week", agents=AGENTS, plan=plan_analyses),
    ),
    report=report_week,
    params_model=WeeklyGtmParams,
)
