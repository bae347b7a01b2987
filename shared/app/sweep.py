"""Use case: the scheduled sweeper finishes what nobody else will.

- A task that never reports back (a consumer that keeps failing below its dead-letter limit,
  a bug, a lost dependency) must not leave its run running forever. Every step carries a
  deadline from its workflow's timeout; the sweeper fails what is still unfinished after it,
  with the reason on the timeline, and moves the run on through the usual path.
- An approval nobody gave before its expiry is marked expired, and its run is cancelled.
- A message Pub/Sub lost (an emulator restarted; in the cloud, a bug that acked without
  doing the work) must not leave a run waiting for its deadline. A task that nobody took
  within `stall_s` of being dispatched, or whose agent's lease lapsed, is sent again; a step
  whose tasks all finished more than `stall_s` ago without the run moving on is moved on.
  Each repeat is harmless: an agent re-reports a finished task, ignores one in progress,
  and the supervisor moves a run on once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from shared.app.orchestrate import finish_run_if_complete, publish_tasks, resume_after_decision
from shared.app.timeline import run_event
from shared.core.documents import TaskDoc
from shared.core.models import ApprovalStatus, TaskStatus
from shared.core.ports import Bus, Store


def sweep_overdue_runs(store: Store, *, bus: Bus, clock: Callable[[], datetime]) -> list[str]:
    """Fail every unfinished task of every overdue run, then move those runs on."""
    now = clock()
    swept = []
    for run in store.list_overdue_runs(now):
        limit = run.deadline_at - run.created_at if run.deadline_at else None
        reason = f"timed out: no result within {limit}" if limit else "timed out"
        for task in store.list_tasks(run.run_id, step=run.step):
            if task.status.terminal:
                continue
            was = f"was {task.status.value}, {task.attempts} attempts"
            if store.finish_task(run.run_id, task.task_id, TaskStatus.FAILED, now, error=reason):
                store.append_event(
                    run_event(
                        run.run_id,
                        "task.timed_out",
                        f"{task.agent} {reason} ({was})",
                        now,
                        task_id=task.task_id,
                        agent=task.agent,
                        attempt=run.attempt,
                    )
                )
        finish_run_if_complete(
            run.run_id, f"sweeper-{run.run_id}-{run.attempt}", store=store, bus=bus, clock=clock
        )
        swept.append(run.run_id)
    return swept


def expire_approvals(store: Store, *, bus: Bus, clock: Callable[[], datetime]) -> list[str]:
    """Mark overdue approvals expired and cancel their runs; returns the runs cancelled."""
    now = clock()
    expired = []
    for approval in store.list_expired_approvals(now):
        decided, _ = store.decide_approval(
            approval.run_id, approval.step, ApprovalStatus.EXPIRED, "sweeper", now, "", {}
        )
        if decided.status is ApprovalStatus.EXPIRED:
            store.append_event(
                run_event(
                    approval.run_id,
                    "approval.expired",
                    f"{approval.title}: nobody decided by {approval.expires_at:%Y-%m-%d %H:%M} UTC",
                    now,
                    discriminator=approval.step,
                )
            )
        owner = f"expiry-{approval.run_id}-{approval.step}"
        if resume_after_decision(approval.run_id, owner, store=store, bus=bus, clock=clock):
            expired.append(approval.run_id)
    return expired


def resend_stalled_work(
    store: Store, *, bus: Bus, clock: Callable[[], datetime], stall_s: int
) -> dict[str, int]:
    """Send again what a lost message left waiting; returns {run_id: tasks sent again}.

    A run whose step is complete but still open is moved on (counted as 0 tasks).
    """
    now = clock()
    stalled_since = now - timedelta(seconds=stall_s)
    resent: dict[str, int] = {}
    for run in store.list_running_runs():
        tasks = store.list_tasks(run.run_id, step=run.step)
        if not tasks:
            continue  # waiting for a person, or a step with nothing to do
        waiting = [t for t in tasks if _stalled(t, now, stalled_since)]
        if waiting:
            publish_tasks(run, waiting, bus=bus)
            store.append_event(
                run_event(
                    run.run_id,
                    "task.resent",
                    f"{run.step}: no word from {', '.join(sorted({t.agent for t in waiting}))} "
                    f"for {stall_s} s; {len(waiting)} task(s) sent again",
                    now,
                    discriminator=f"{run.step}-{now:%Y%m%dT%H%M%S}",
                )
            )
            resent[run.run_id] = len(waiting)
        elif all(t.status.terminal for t in tasks) and all(
            t.finished_at is not None and t.finished_at < stalled_since for t in tasks
        ):
            owner = f"stalled-{run.run_id}-{run.step}-{run.attempt}"
            finish_run_if_complete(run.run_id, owner, store=store, bus=bus, clock=clock)
            resent[run.run_id] = 0
    return resent


def _stalled(task: TaskDoc, now: datetime, stalled_since: datetime) -> bool:
    if task.status is TaskStatus.PENDING:
        return task.created_at < stalled_since
    if task.status is TaskStatus.RUNNING:
        return task.lease_until is not None and task.lease_until < now
    return False
