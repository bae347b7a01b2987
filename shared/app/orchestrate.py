"""Use cases of the supervisor: start runs, gather results, finish runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.app.report import build_run_report
from shared.app.timeline import run_event
from shared.errors import InvalidMessageError
from shared.models import (
    AgentTask,
    LlmUsage,
    RunDoc,
    RunRequest,
    RunStatus,
    TaskDoc,
    TaskResult,
    TaskStatus,
    stable_id,
)
from shared.ports import Bus, Store
from shared.topology import agent_topic
from shared.workflows.registry import get_workflow

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def run_id_for(request: RunRequest, message_id: str) -> str:
    """The requester's run id, or one derived from the message so a redelivery maps to it."""
    return request.run_id or f"{request.workflow}-{stable_id('run', message_id, length=12)}"


def start_run(request: RunRequest, message_id: str, *, store: Store, bus: Bus, clock: Clock) -> str:
    """Create the run and one task per agent, then publish every task still pending."""
    workflow = get_workflow(request.workflow)
    run_id = run_id_for(request, message_id)
    now = clock()
    run = RunDoc(
        run_id=run_id,
        workflow=workflow.name,
        trigger=request.trigger,
        params=request.params,
        task_count=len(workflow.agents),
        created_at=now,
        deadline_at=now + timedelta(seconds=workflow.timeout_s),
        requested_by=request.requested_by,
    )
    tasks = [
        TaskDoc(run_id=run_id, task_id=agent, agent=agent, input=request.params, created_at=now)
        for agent in workflow.agents
    ]
    created = store.create_run(
        run,
        tasks,
        [run_event(run_id, "run.created", f"{workflow.title} requested by {request.trigger}", now)],
    )
    if not created:
        existing = store.get_run(run_id)
        if existing is None or existing.status.terminal:
            return run_id
    pending = [t for t in store.list_tasks(run_id) if t.status is TaskStatus.PENDING]
    for task in pending:
        bus.publish(
            agent_topic(task.agent),
            AgentTask(
                run_id=run_id,
                task_id=task.task_id,
                agent=task.agent,
                workflow=workflow.name,
                params=task.input,
            ),
        )
    store.append_event(
        run_event(
            run_id,
            "run.dispatched",
            f"{len(tasks)} tasks dispatched to {', '.join(workflow.agents)}",
            clock(),
        )
    )
    return run_id


def record_task_result(
    result: TaskResult, delivery_id: str, *, store: Store, clock: Clock
) -> RunStatus | None:
    """Note a terminal task and finish the run when it was the last one."""
    task = store.get_task(result.run_id, result.task_id)
    if task is None:
        raise InvalidMessageError(f"result for unknown task {result.run_id}/{result.task_id}")
    if not task.status.terminal:
        # The agent writes its task before it reports; a result ahead of its task is stale.
        raise InvalidMessageError(
            f"task {result.task_id} reported {result.status} but is {task.status}"
        )
    return finish_run_if_complete(result.run_id, delivery_id, store=store, clock=clock)


def fail_dead_lettered_task(
    task: AgentTask, attempts: int | None, delivery_id: str, *, store: Store, clock: Clock
) -> RunStatus | None:
    """A task whose deliveries were exhausted: fail it with the reason, then maybe finish."""
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
    return finish_run_if_complete(task.run_id, delivery_id, store=store, clock=clock)


def finish_run_if_complete(
    run_id: str, delivery_id: str, *, store: Store, clock: Clock
) -> RunStatus | None:
    """When every task is terminal, aggregate and finish the run, exactly once.

    Several deliveries may see the full count at once; only the one that claims the finish
    marker (or a redelivery of that same message, after a crash) writes the outcome.
    """
    run = store.get_run(run_id)
    if run is None:
        raise InvalidMessageError(f"unknown run {run_id}")
    if run.status.terminal:
        return run.status
    if store.count_terminal_tasks(run_id) < run.task_count:
        return None
    if not store.claim_run_finish(run_id, delivery_id):
        return None
    tasks = store.list_tasks(run_id)
    failures = [f"{t.agent}: {t.error}" for t in tasks if t.status is TaskStatus.FAILED]
    status = RunStatus.FAILED if failures else RunStatus.SUCCEEDED
    now = clock()
    usage = LlmUsage.total([t.usage for t in tasks])
    report = build_run_report(run, tasks, now)
    for artifact in report.artifacts:
        store.save_artifact(run_id, artifact)
    finished = run.model_copy(
        update={
            "status": status,
            "finished_at": now,
            "duration_s": round((now - run.created_at).total_seconds(), 3),
            "summary": report.summary,
            "failure_reasons": failures,
            "usage": usage,
        }
    )
    store.finish_run(finished)
    message = (
        "run succeeded" if status is RunStatus.SUCCEEDED else "run failed: " + "; ".join(failures)
    )
    store.append_event(run_event(run_id, f"run.{status.value}", message, now))
    logger.info("run %s finished %s", run_id, status.value)
    return status
