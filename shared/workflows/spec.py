"""How a workflow is declared: its steps in order, what each fans out, where a person decides.

A workflow is a sequence of steps. A *task step* plans a set of agent tasks that run in
parallel (four agents for the weekly report, one task per customer for win-back drafts); the
run moves on when every one of them is terminal. An *approval step* stops the run until a
person approves, rejects or lets the request expire. The supervisor's engine
(shared.app.orchestrate) knows only these two shapes, so a new workflow is one new module.

Planners and proposals are pure functions of the run and the tasks of earlier steps; the work
of a task is done by the agent named on it, in that agent's function: the step handler that
shared.agents.registry.STEP_HANDLERS lists for (workflow, step), else the agent's own
analysis graph. A declaration imports no agent, so the webhooks and status functions, which
read declarations, do not load the agents' libraries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from shared.core.documents import ApprovalDoc, RunDoc, TaskDoc
from shared.workflows.params import APPROVAL_EXPIRES_AFTER_S, RunParams, check_params


class RunHistory(Protocol):
    """What planners and proposals may read of a run's earlier steps."""

    def tasks(self, step: str) -> list[TaskDoc]:
        """The tasks of an earlier step, by task id."""
        ...

    def approval(self, step: str) -> ApprovalDoc | None:
        """The decision taken at an earlier approval step."""
        ...


@dataclass(frozen=True)
class TaskSpec:
    """One task a step plans: its id within the run, the agent that works it, its input."""

    task_id: str
    agent: str
    input: dict[str, Any]


Planner = Callable[[RunDoc, RunHistory], list[TaskSpec]]
Proposal = Callable[[RunDoc, RunHistory], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """One step of a workflow.

    kind="tasks": `plan` gives the tasks, which the agents named in `agents` work. With
    `allow_failures`, a failed task (one customer's draft) drops out instead of failing the
    run. kind="approval": `propose` describes what approval would do; nobody deciding within
    `expires_after_s` cancels the run; when `needed` says there is nothing to decide (no
    budget change proposed), the step is skipped.
    """

    name: str
    title: str
    kind: Literal["tasks", "approval"] = "tasks"
    agents: tuple[str, ...] = ()  # the agents its tasks go to
    plan: Planner | None = None
    allow_failures: bool = False
    propose: Proposal | None = None
    expires_after_s: int = APPROVAL_EXPIRES_AFTER_S
    needed: Callable[[RunDoc, RunHistory], bool] | None = None

    def __post_init__(self) -> None:
        if self.kind == "tasks" and self.plan is None:
            raise ValueError(f"task step {self.name!r} needs a planner")
        if self.kind == "approval" and self.propose is None:
            raise ValueError(f"approval step {self.name!r} needs a proposal")


@dataclass(frozen=True)
class RunOutcome:
    """What a finished run hands to people and systems: summary, artifacts, rows to log."""

    summary: str
    artifacts: Sequence[Any] = ()
    rows: list[list[Any]] = field(default_factory=list)


Reporter = Callable[[RunDoc, list[TaskDoc], datetime], RunOutcome]


@dataclass(frozen=True)
class Workflow:
    """A named workflow: its steps in order, how its outcome is reported, its time limit,
    and the parameters a run of it takes (`params_model`, see shared.workflows.params)."""

    name: str
    title: str
    description: str
    steps: tuple[Step, ...]
    report: Reporter
    # What a run takes; a workflow that declares nothing takes nothing but a note.
    params_model: type[RunParams] = RunParams
    # A run still working this long after it started (or resumed) is failed by the sweeper.
    timeout_s: int = 1800

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"workflow {self.name!r} needs steps with distinct names")
        if self.steps[0].kind != "tasks":
            raise ValueError(f"workflow {self.name!r} must start with a task step")

    def validate_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The run's params as `params_model` accepts them (only the fields given, as JSON
        values); InvalidParamsError names each refused field and why."""
        return check_params(self.params_model, params, workflow=self.name)

    def step(self, name: str) -> Step:
        """The step called `name`."""
        return next(step for step in self.steps if step.name == name)

    def after(self, name: str) -> Step | None:
        """The step that follows `name`, or None after the last."""
        names = [step.name for step in self.steps]
        index = names.index(name) + 1
        return self.steps[index] if index < len(self.steps) else None

    @property
    def agents(self) -> tuple[str, ...]:
        """Every agent the workflow's steps may use (for pages and docs)."""
        return tuple(dict.fromkeys(a for step in self.steps for a in step.agents))
