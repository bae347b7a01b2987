"""Use case: the scheduled sweeper finishes runs that are past their deadline.

A task that never reports back (a consumer that keeps failing below its dead-letter limit,
a bug, a lost dependency) must not leave its run running forever. Every run carries a
deadline from its workflow's timeout; the sweeper fails what is still unfinished after it,
with the reason on the timeline, and finishes the run through the usual path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.app.orchestrate import finish_run_if_complete
from shared.app.timeline import run_event
from shared.models import TaskStatus
from shared.ports import Store


def sweep_overdue_runs(store: Store, *, clock: Callable[[], datetime]) -> list[str]:
    """Fail every unfinished task of every overdue run, then finish those runs."""
    now = clock()
    swept = []
    for run in store.list_overdue_runs(now):
        limit = run.deadline_at - run.created_at if run.deadline_at else None
        reason = f"timed out: no result within {limit}" if limit else "timed out"
        for task in store.list_tasks(run.run_id):
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
                    )
                )
        finish_run_if_complete(run.run_id, f"sweeper-{run.run_id}", store=store, clock=clock)
        swept.append(run.run_id)
    return swept
