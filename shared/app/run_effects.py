"""Use case: once a run is finished, announce it and export its figures — each exactly once
where the outside system allows it.

Every effect goes through one mechanism: an intent record runs/{run}/effects/{step} is created
before the call and marked done after. A redelivery finds "done" and does nothing. A crash
between the call and the mark repeats the call on redelivery, so what an effect guarantees
depends on the outside system:

| effect | outside system | guarantee |
| --- | --- | --- |
| announce | Slack: notice looked up by metadata before posting | once, unless deliveries race |
| announce | local: nothing leaves the process; the timeline records it | exactly once |
| export | local: one Firestore document per run, overwritten | exactly once |
| export | Google Sheets append: no way to deduplicate | at-least-once |

This runs on every delivery that finds the run finished, so a crash after the run was marked
finished heals on redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from shared.app.report import numbers_rows
from shared.app.timeline import run_event
from shared.ports import Store
from shared.support.outbound import Notifier
from shared.workflows.registry import WORKFLOWS


class RowExporter(Protocol):
    """Where a run's figures are exported (a Google Sheet, or Firestore locally)."""

    def export_rows(self, run_id: str, rows: list[list[Any]]) -> None:
        """Append the rows of one run."""
        ...


def complete_run_effects(
    run_id: str,
    *,
    store: Store,
    notifier: Notifier,
    exporter: RowExporter,
    status_url: str,
    clock: Callable[[], datetime],
) -> list[str]:
    """Announce the finished run and export its figures; returns the steps done now."""
    run = store.get_run(run_id)
    if run is None or not run.status.terminal:
        return []
    workflow = WORKFLOWS.get(run.workflow)
    title = workflow.title if workflow else run.workflow
    link = f"{status_url.rstrip('/')}/runs/{run_id}"
    text = f"{title} {run.status.value}: {run.summary or ''} {link}".strip()
    tasks = store.list_tasks(run_id)
    rows = [[run_id, agent, metric, value] for agent, metric, value in numbers_rows(tasks)]
    done = []
    if _once(store, run_id, "announce", lambda: notifier.notify(f"run-{run_id}", text), clock):
        done.append("announce")
    if _once(store, run_id, "export", lambda: exporter.export_rows(run_id, rows), clock):
        done.append("export")
    return done


def _once(
    store: Store,
    run_id: str,
    step: str,
    action: Callable[[], object],
    clock: Callable[[], datetime],
) -> bool:
    record = store.begin_effect(run_id, step, clock())
    if record.status == "done":
        return False
    action()
    store.complete_effect(run_id, step, clock())
    store.append_event(
        run_event(run_id, f"effect.{step}", f"{step} done (attempt {record.attempts})", clock())
    )
    return True
