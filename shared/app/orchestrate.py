"""The supervisor's engine: start runs, move them step by step, finish them exactly once.

A run works one step of its workflow at a time (shared.workflows.spec). A task step's tasks
are written, then published; each agent reports its task terminal on task-results. The
completion of a step never funnels through one hot document: each report counts the step's
terminal tasks with an aggregation query, and whoever sees the full count tries to create the
step's marker runs/{run}/markers/{step}-{attempt}; only the delivery whose create succeeds
(or a redelivery of that same message, after a crash) moves the run on. An approval step
parks the run as "waiting" until a person's decision (or its expiry) resumes it.

Every write is idempotent, so any delivery may crash at any point and its redelivery heals:
tasks are created once, events have derived ids, and a redelivered owner of a step marker
re-publishes what its crash may have left unpublished.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from shared.app.timeline import run_event
from shared.core.documents import ApprovalDoc, RunDoc, TaskDoc
from shared.core.errors import InvalidMessageError, InvalidParamsError
from shared.core.messages import AgentTask, RunRequest, TaskResult
from shared.core.models import ApprovalStatus, LlmUsage, RunStatus, TaskStatus, stable_id
from shared.core.ports import Bus, Clock, Store
from shared.core.topology import agent_topic
from shared.workflows.registry import get_workflow
from shared.workflows.spec import Step, TaskSpec, Workflow

logger = logging.getLogger(__name__)


class StoredHistory:
    """A run's earlier steps as planners see them, read from the store on demand."""

    def __init__(self, store: Store, run_id: str) -> None:
        self._store = store
        self._run_id = run_id
        self._tasks: dict[str, list[TaskDoc]] = {}

    def tasks(self, step: str) -> list[TaskDoc]:
        """The tasks of a step, by task id (read once)."""
        if step not in self._tasks:
            self._tasks[step] = self._store.list_tasks(self._run_id, step=step)
        return self._tasks[step]

    def approval(self, step: str) -> ApprovalDoc | None:
        """The decision of an approval step."""
        return self._store.get_approval(self._run_id, step)


def run_id_for(request: RunRequest, message_id: str) -> str:
    """The requester's run id, or one derived from the message so a redelivery maps to it."""
    return request.run_id or f"{request.workflow}-{stable_id('run', message_id, length=12)}"


def _task_docs(run: RunDoc, step: Step, specs: list[TaskSpec], now: datetime) -> list[TaskDoc]:
    return [
        TaskDoc(
            run_id=run.run_id,
            task_id=spec.task_id,
            agent=spec.agent,
            step=step.name,
            input=spec.input,
            created_at=now,
        )
        for spec in specs
    ]


def start_run(request: RunRequest, message_id: str, *, store: Store, bus: Bus, clock: Clock) -> str:
    """Create the run with its first step's tasks, then publish every task still pending.

    A request from anywhere (a schedule, a webhook, a segment entry, another program) is
    checked against its workflow's params model first: one it refuses is a permanent error,
    so the message is recorded and dead-lettered at once and no run is created.
    """
    workflow = get_workflow(request.workflow)
    run_id = run_id_for(request, message_id)
    try:
        params = workflow.validate_params(request.params)
    except InvalidParamsError as exc:
        raise InvalidMessageError(
            f"run request {run_id} ({workflow.name}, from {request.trigger}) refused: {exc}"
        ) from exc
    now = clock()
    first = workflow.steps[0]
    run = RunDoc(
        run_id=run_id,
        workflow=workflow.name,
        trigger=request.trigger,
        params=params,
        step=first.name,
        task_count=0,
        created_at=now,
        deadline_at=now + timedelta(seconds=workflow.timeout_s),
        requested_by=request.requested_by,
    )
    assert first.plan is not None
    tasks = _task_docs(run, first, first.plan(run, StoredHistory(store, run_id)), now)
    run = run.model_copy(update={"task_count": len(tasks)})
    created = store.create_run(
        run,
        tasks,
        [run_event(run_id, "run.created", f"{workflow.title} requested by {request.trigger}", now)],
    )
    if not created:
        existing = store.get_run(run_id)
        if existing is None or existing.status.terminal:
            return run_id
        run = existing
    if run.task_count == 0:
        finish_run(run, RunStatus.SUCCEEDED, f"start-{run_id}", store=store, clock=clock)
        return run_id
    dispatch_pending(run, store=store, bus=bus, clock=clock)
    return run_id


def publish_tasks(run: RunDoc, tasks: list[TaskDoc], *, bus: Bus) -> list[str]:
    """Publish each task to its agent's topic; returns the agents, by name."""
    by_agent: dict[str, list[AgentTask]] = {}
    for task in tasks:
        by_agent.setdefault(task.agent, []).append(
            AgentTask(
                run_id=run.run_id,
                task_id=task.task_id,
                agent=task.agent,
                workflow=run.workflow,
                step=task.step,
                params=task.input,
            )
        )
    for agent, messages in by_agent.items():
        bus.publish_many(agent_topic(agent), messages)
    return sorted(by_agent)


def dispatch_pending(run: RunDoc, *, store: Store, bus: Bus, clock: Clock) -> int:
    """Publish every pending task of the run's current step (a repeat is harmless)."""
    pending = [
        t for t in store.list_tasks(run.run_id, step=run.step) if t.status is TaskStatus.PENDING
    ]
    agents = publish_tasks(run, pending, bus=bus)
    store.append_event(
        run_event(
            run.run_id,
            "step.dispatched",
            f"{run.step}: {len(pending)} tasks dispatched to {', '.join(agents) or 'no agent'}",
            clock(),
            discriminator=f"{run.step}-{run.attempt}",
            data={"step": run.step, "tasks": len(pending)},
        )
    )
    return len(pending)


def record_task_result(
    result: TaskResult, delivery_id: str, *, store: Store, bus: Bus, clock: Clock
) -> RunStatus | None:
    """Note a terminal task; the step's last one moves the run on."""
    task = store.get_task(result.run_id, result.task_id)
    if task is None:
        raise InvalidMessageError(f"result for unknown task {result.run_id}/{result.task_id}")
    if not task.status.terminal:
        # The agent writes its task before it reports; a result ahead of its task is stale.
        raise InvalidMessageError(
            f"task {result.task_id} reported {result.status} but is {task.status}"
        )
    return advance_run(result.run_id, task.step, delivery_id, store=store, bus=bus, clock=clock)


def fail_dead_lettered_task(
    task: AgentTask,
    attempts: int | None,
    delivery_id: str,
    *,
    store: Store,
    bus: Bus,
    clock: Clock,
) -> RunStatus | None:
    """A task whose deliveries were exhausted: fail it with the reason, then maybe move on."""
    stored = store.get_task(task.run_id, task.task_id)
    if stored is None:
        raise InvalidMessageError(f"dead-lettered task {task.run_id}/{task.task_id} is unknown")
    tries = f"{attempts} delivery attempts" if attempts else "its delivery attempts"
    last = f"; last error: {stored.last_error}" if stored.last_error else ""
    reason = f"gave up after {tries}{last}"
    now = clock()
    if store.finish_task(task.run_id, task.task_id, TaskStatus.FAILED, now, error=reason):
        store.append_event(
            run_event(
                task.run_id,
                "task.dead_lettered",
                f"{task.agent} {reason}",
                now,
                task_id=task.task_id,
                agent=task.agent,
            )
        )
    return advance_run(task.run_id, stored.step, delivery_id, store=store, bus=bus, clock=clock)


def advance_run(
    run_id: str, step: str | None, owner: str, *, store: Store, bus: Bus, clock: Clock
) -> RunStatus | None:
    """When every task of `step` (default: the current one) is terminal, move on, once.

    Returns the run's status when this call changed it, else None.
    """
    run = store.get_run(run_id)
    if run is None:
        raise InvalidMessageError(f"unknown run {run_id}")
    if run.status.terminal:
        return run.status
    step = step or run.step
    marker = f"{step}-{run.attempt}"
    if run.step != step:
        # Only a redelivery of the message that moved the run on gets here with the marker:
        # it may have crashed before publishing the next step's tasks.
        if store.claim_marker(run_id, marker, owner, create=False):
            dispatch_pending(run, store=store, bus=bus, clock=clock)
        return None
    if run.status is RunStatus.WAITING:
        return None
    if store.count_terminal_tasks(run_id, step=step) < run.task_count:
        return None
    if not store.claim_marker(run_id, marker, owner):
        return None
    workflow = get_workflow(run.workflow)
    tasks = store.list_tasks(run_id, step=step)
    failed = [t for t in tasks if t.status is TaskStatus.FAILED]
    if failed and not workflow.step(step).allow_failures:
        reasons = [f"{t.task_id}: {t.error}" for t in failed]
        return finish_run(run, RunStatus.FAILED, owner, store=store, clock=clock, reasons=reasons)
    if failed:
        store.append_event(
            run_event(
                run_id,
                "step.partial",
                f"{step}: {len(failed)} of {len(tasks)} tasks failed and were left out",
                clock(),
                discriminator=marker,
            )
        )
    return enter_step(run, workflow.after(step), owner, store=store, bus=bus, clock=clock)


def enter_step(
    run: RunDoc, step: Step | None, owner: str, *, store: Store, bus: Bus, clock: Clock
) -> RunStatus:
    """Start `step` (plan and publish its tasks, or ask for a decision); None finishes."""
    workflow = get_workflow(run.workflow)
    if step is None:
        return finish_run(run, RunStatus.SUCCEEDED, owner, store=store, clock=clock)
    now = clock()
    history = StoredHistory(store, run.run_id)
    if step.kind == "approval":
        if step.needed is not None and not step.needed(run, history):
            store.append_event(
                run_event(
                    run.run_id,
                    "step.skipped",
                    f"{step.title}: nothing to decide",
                    now,
                    discriminator=f"{step.name}-{run.attempt}",
                )
            )
            return enter_step(
                run, workflow.after(step.name), owner, store=store, bus=bus, clock=clock
            )
        return _request_approval(run, workflow, step, history, store=store, clock=clock)
    assert step.plan is not None
    specs = step.plan(run, history)
    if not specs:
        store.append_event(run_event(run.run_id, "step.empty", f"{step.name}: nothing to do", now))
        return finish_run(run, RunStatus.SUCCEEDED, owner, store=store, clock=clock)
    store.add_tasks(run.run_id, _task_docs(run, step, specs, now))
    moved = store.update_run(
        run.run_id,
        {
            "status": RunStatus.RUNNING.value,
            "step": step.name,
            "task_count": len(specs),
            "deadline_at": now + timedelta(seconds=workflow.timeout_s),
        },
    )
    store.append_event(
        run_event(
            run.run_id,
            "step.started",
            f"{step.title}: {len(specs)} tasks",
            now,
            discriminator=f"{step.name}-{run.attempt}",
            data={"step": step.name},
        )
    )
    dispatch_pending(moved, store=store, bus=bus, clock=clock)
    return RunStatus.RUNNING


def _request_approval(
    run: RunDoc,
    workflow: Workflow,
    step: Step,
    history: StoredHistory,
    *,
    store: Store,
    clock: Clock,
) -> RunStatus:
    assert step.propose is not None
    now = clock()
    expires_s = int(run.params.get("approval_expires_s", step.expires_after_s))
    approval = ApprovalDoc(
        run_id=run.run_id,
        step=step.name,
        workflow=workflow.name,
        title=step.title,
        proposal=step.propose(run, history),
        requested_at=now,
        expires_at=now + timedelta(seconds=max(1, expires_s)),
    )
    store.create_approval(approval)
    store.update_run(
        run.run_id, {"status": RunStatus.WAITING.value, "step": step.name, "task_count": 0}
    )
    store.append_event(
        run_event(
            run.run_id,
            "approval.requested",
            f"{step.title}: {approval.proposal.get('action', 'a decision is needed')}; "
            f"expires {approval.expires_at:%Y-%m-%d %H:%M} UTC",
            now,
            discriminator=f"{step.name}-{run.attempt}",
        )
    )
    return RunStatus.WAITING


def resume_after_decision(
    run_id: str, owner: str, *, store: Store, bus: Bus, clock: Clock
) -> RunStatus | None:
    """Continue a waiting run whose approval was decided: go on, or cancel (rejected/expired)."""
    run = store.get_run(run_id)
    if run is None:
        raise InvalidMessageError(f"unknown run {run_id}")
    if run.status is not RunStatus.WAITING:
        return None
    approval = store.get_approval(run_id, run.step)
    if approval is None or approval.status is ApprovalStatus.PENDING:
        return None
    if not store.claim_marker(run_id, f"{run.step}-{run.attempt}", owner):
        return None
    if approval.status is not ApprovalStatus.APPROVED:
        who = f" by {approval.decided_by}" if approval.decided_by else ""
        comment = f": {approval.comment}" if approval.comment else ""
        reason = f"{approval.title} {approval.status.value}{who}{comment}"
        return finish_run(run, RunStatus.CANCELLED, owner, store=store, clock=clock, note=reason)
    workflow = get_workflow(run.workflow)
    return enter_step(run, workflow.after(run.step), owner, store=store, bus=bus, clock=clock)


def finish_run(
    run: RunDoc,
    status: RunStatus,
    owner: str,
    *,
    store: Store,
    clock: Clock,
    reasons: list[str] | None = None,
    note: str | None = None,
) -> RunStatus:
    """Report, store the artifacts and write the outcome, exactly once per attempt."""
    if not store.claim_marker(run.run_id, f"finish-{run.attempt}", owner):
        current = store.get_run(run.run_id)
        return current.status if current else status
    workflow = get_workflow(run.workflow)
    tasks = store.list_tasks(run.run_id)
    now = clock()
    outcome = workflow.report(run, tasks, now)
    for artifact in outcome.artifacts:
        store.save_artifact(run.run_id, artifact)
    summary = f"{note}. {outcome.summary}" if note else outcome.summary
    finished = run.model_copy(
        update={
            "status": status,
            "finished_at": now,
            "duration_s": round((now - run.created_at).total_seconds(), 3),
            "summary": summary,
            "failure_reasons": reasons or [],
            "failed_step": run.step if status is RunStatus.FAILED else None,
            "usage": LlmUsage.total([t.usage for t in tasks]),
        }
    )
    if status is RunStatus.FAILED:
        message = f"run failed at step {run.step}: " + "; ".join(reasons or [])
    elif note:
        message = f"run {status.value}: {note}"
    else:
        message = f"run {status.value}"
    # The timeline entry goes first: whoever sees the run finished (a person, a test, the
    # export) then finds why on its timeline. A crash between the two writes is redelivered
    # to the same owner, which writes both again (the event is keyed, so it stays one).
    store.append_event(
        run_event(run.run_id, f"run.{status.value}", message, now, discriminator=str(run.attempt))
    )
    store.finish_run(finished)
    logger.info("run %s finished %s", run.run_id, status.value)
    return status


def finish_run_if_complete(
    run_id: str, owner: str, *, store: Store, bus: Bus, clock: Clock
) -> RunStatus | None:
    """Move the run on if its current step is complete (used by the sweeper)."""
    return advance_run(run_id, None, owner, store=store, bus=bus, clock=clock)
