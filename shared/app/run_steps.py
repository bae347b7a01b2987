"""Each step of a run's workflow with its status, for the run page's graph (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from shared.core.documents import ApprovalDoc, RunDoc, TaskDoc
from shared.core.models import RunStatus, TaskStatus
from shared.workflows.graph import GraphEdge, workflow_outline
from shared.workflows.registry import WORKFLOWS


@dataclass(frozen=True)
class StepView:
    """One node of the drawn graph: a step, its status and how far its tasks got."""

    name: str
    title: str
    kind: str
    status: str  # not started | running | waiting | succeeded | failed | approved | ...
    done: int
    total: int
    failed: int


@dataclass(frozen=True)
class RunGraph:
    """The steps in order and the edges LangGraph draws between them."""

    steps: tuple[StepView, ...]
    edges: tuple[GraphEdge, ...]
    mermaid: str


def run_graph(
    run: RunDoc, tasks: list[TaskDoc], approvals: dict[str, ApprovalDoc]
) -> RunGraph | None:
    """The run's workflow graph with every step's status; None for an unknown workflow."""
    workflow = WORKFLOWS.get(run.workflow)
    if workflow is None:
        return None
    by_step: dict[str, Counter[TaskStatus]] = {}
    for task in tasks:
        by_step.setdefault(task.step, Counter())[task.status] += 1
    names = [step.name for step in workflow.steps]
    current = names.index(run.step) if run.step in names else -1
    views = []
    for index, step in enumerate(workflow.steps):
        counts = by_step.get(step.name, Counter())
        total = sum(counts.values())
        done = counts[TaskStatus.SUCCEEDED] + counts[TaskStatus.FAILED]
        failed = counts[TaskStatus.FAILED]
        if step.kind == "approval":
            approval = approvals.get(step.name)
            status = approval.status.value if approval else "not started"
        elif index > current or (total == 0 and index != current):
            status = "not started"
        elif index < current or run.status is RunStatus.SUCCEEDED:
            status = "succeeded" if not failed else "partly failed"
        elif run.status is RunStatus.FAILED:
            status = "failed"
        elif run.status is RunStatus.CANCELLED:
            status = "cancelled"
        else:
            status = "running"
        views.append(StepView(step.name, step.title, step.kind, status, done, total, failed))
    outline = workflow_outline(workflow.name)
    return RunGraph(steps=tuple(views), edges=outline.edges, mermaid=outline.mermaid)
