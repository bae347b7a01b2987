"""Use case: one agent works one task, exactly once in effect under at-least-once delivery."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared.app.timeline import run_event
from shared.core.documents import TaskDoc
from shared.core.envelope import describe_validation_error
from shared.core.errors import PermanentError, is_permanent
from shared.core.messages import AgentTask, TaskResult
from shared.core.models import LlmUsage, TaskStatus
from shared.core.ports import AgentRunner, Bus, Store
from shared.core.topology import TASK_RESULTS_TOPIC

logger = logging.getLogger(__name__)


"""Called by an agent after each step of its graph with (step name, what it did)."""


def run_agent_task(
    task: AgentTask,
    delivery_id: str,
    *,
    store: Store,
    bus: Bus,
    runner: AgentRunner,
    lease_s: int,
    clock: Callable[[], datetime],
) -> TaskStatus:
    """Claim the task, run the agent, record the outcome and report it to the supervisor.

    A duplicate of a finished task only re-reports the stored result; a duplicate of a task
    in progress is acknowledged and does nothing. A failure that no retry can fix
    (`shared.core.errors.is_permanent`: our PermanentErrors, and the value errors code raises
    on bad data) fails the task on this delivery, its reason on the timeline, and is
    acknowledged; any other is recorded as a failed attempt and re-raised, so Pub/Sub
    redelivers until the attempts run out and the task is dead-lettered.
    """
    claim = store.claim_task(task.run_id, task.task_id, delivery_id, lease_s, clock())
    if claim.outcome == "terminal":
        _report(bus, claim.task)
        return claim.task.status
    if claim.outcome == "busy":
        # Another delivery holds the lease. Its message is not acked until the task is
        # terminal or released, so if that delivery dies its own redelivery takes the task
        # back; this copy is a duplicate and is acknowledged without doing anything (raising
        # would retry it until it is dead-lettered and fails a task that is still running).
        logger.info("task %s is leased by another delivery; duplicate ignored", task.task_id)
        store.append_event(
            run_event(
                task.run_id,
                "task.duplicate_ignored",
                f"{task.agent}: a duplicate delivery found the task in progress and left it",
                clock(),
                task_id=task.task_id,
                agent=task.agent,
                discriminator=delivery_id,
            )
        )
        return claim.task.status
    run = store.get_run(task.run_id)
    if run is not None and run.status.terminal:
        # Cancelled (or otherwise over) while this task waited: do no work, send nothing.
        reason = f"not run: the run is {run.status.value}"
        return _finish(store, bus, claim.task, TaskStatus.FAILED, clock, error=reason)
    attempt = claim.task.attempts
    store.append_event(
        run_event(
            task.run_id,
            "task.started",
            f"{task.agent} started (attempt {attempt})",
            clock(),
            task_id=task.task_id,
            agent=task.agent,
            attempt=attempt,
        )
    )

    def record_step(step: str, detail: str) -> None:
        store.append_event(
            run_event(
                task.run_id,
                "task.step",
                f"{task.agent} · {step}: {detail}",
                clock(),
                task_id=task.task_id,
                agent=task.agent,
                attempt=attempt,
                discriminator=step,
            )
        )

    try:
        outcome = runner(task, record_step)
    except Exception as exc:
        if is_permanent(exc):
            # The same task on the same data fails the same way: fail it now, with why (on
            # the timeline; the log line names only the type, as data may be in the message).
            logger.warning("task %s failed for good: %s", task.task_id, type(exc).__name__)
            error = failure_reason(exc)
            return _finish(store, bus, claim.task, TaskStatus.FAILED, clock, error=error)
        reason = failure_reason(exc)
        logger.warning("attempt %s of task %s failed: %s", attempt, task.task_id, reason)
        store.append_event(
            run_event(
                task.run_id,
                "task.attempt_failed",
                f"{task.agent} attempt {attempt} failed, will retry: {reason}",
                clock(),
                task_id=task.task_id,
                agent=task.agent,
                attempt=attempt,
            )
        )
        store.release_task(task.run_id, task.task_id, delivery_id, reason)
        raise
    return _finish(
        store,
        bus,
        claim.task,
        TaskStatus.SUCCEEDED,
        clock,
        output=outcome.output,
        usage=outcome.usage,
    )


def failure_reason(exc: BaseException) -> str:
    """What a task's timeline says about its failure: our own errors by their message, any
    other by its type and message (a validation error as one line naming each field)."""
    if isinstance(exc, PermanentError):
        return str(exc)
    detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
    return f"{type(exc).__name__}: {detail}"


def _finish(
    store: Store,
    bus: Bus,
    task: TaskDoc,
    status: TaskStatus,
    clock: Callable[[], datetime],
    *,
    output: dict[str, Any] | None = None,
    error: str | None = None,
    usage: LlmUsage | None = None,
) -> TaskStatus:
    changed = store.finish_task(
        task.run_id, task.task_id, status, clock(), output=output, error=error, usage=usage
    )
    final = store.get_task(task.run_id, task.task_id) or task
    if changed:
        verb = "finished" if status is TaskStatus.SUCCEEDED else f"failed: {error}"
        store.append_event(
            run_event(
                task.run_id,
                f"task.{status.value}",
                f"{task.agent} {verb}",
                clock(),
                task_id=task.task_id,
                agent=task.agent,
                attempt=task.attempts,
                data={"duration_s": final.duration_s},
            )
        )
    _report(bus, final)
    return final.status


def _report(bus: Bus, task: TaskDoc) -> None:
    """Tell the supervisor the task is terminal (safe to repeat: the supervisor dedupes)."""
    result = TaskResult(
        run_id=task.run_id,
        task_id=task.task_id,
        agent=task.agent,
        status="succeeded" if task.status is TaskStatus.SUCCEEDED else "failed",
        error=task.error,
    )
    bus.publish(TASK_RESULTS_TOPIC, result)
