"""Use case: the scheduled sweeper finishes what nobody else will.

- A task that never reports back (a consumer that keeps failing below its dead-letter limit,
  a bug, a lost dependency) must not leave its run running forever. Every step carries a
  deadline from its workflow's timeout; the sweeper fails what is still unfinished after it,
  with the reason on the timeline, and moves the run on through the usual path.
- An approval nobody gave before its expiry is marked expired, and its run is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.app.orchestrate import finish_run_if_complete, resume_after_decision
from shared.app.timeline import run_event
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
