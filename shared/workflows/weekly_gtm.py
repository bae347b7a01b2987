"""Weekly go-to-market report: the four agents analyse the week in parallel, one report."""

from __future__ import annotations

from datetime import datetime

from shared.core.documents import RunDoc, TaskDoc
from shared.core.topology import AGENTS
from shared.workflows.report import build_run_report, numbers_rows
from shared.workflows.spec import RunHistory, RunOutcome, Step, TaskSpec, Workflow


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
)
