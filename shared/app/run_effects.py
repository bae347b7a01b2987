"""Use case: once a run is finished, announce it and export its figures — each exactly once
where the outside system allows it.

Every effect goes through the one mechanism of shared.core.effects: an intent record
runs/{run}/effects/{step} is created before the call and marked done after. A redelivery
finds "done" and does nothing. A crash between the call and the mark repeats the call on
redelivery, so what an effect guarantees depends on the outside system:

| effect | outside system | guarantee |
| --- | --- | --- |
| announce | Slack: notice looked up by metadata before posting | once, unless deliveries race |
| announce | local: nothing leaves the process; the timeline records it | exactly once |
| export | local: one Firestore document per run, overwritten | exactly once |
| export | Google Sheets append: no way to deduplicate | at-least-once |
| artifacts | GCS, S3 or a folder: one key per artifact, overwritten | once in effect |

This runs on every delivery that finds the run finished, so a crash after the run was marked
finished heals on redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from shared.app.timeline import run_event
from shared.artifacts import ArtifactStore
from shared.core.documents import EffectRecord
from shared.core.effects import perform_once
from shared.core.ports import Store
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
    artifacts: ArtifactStore,
    status_url: str,
    clock: Callable[[], datetime],
) -> list[str]:
    """Publish the artifacts, announce the finished run, export its rows; returns the steps
    done now."""
    run = store.get_run(run_id)
    if run is None or not run.status.terminal:
        return []
    workflow = WORKFLOWS.get(run.workflow)
    title = workflow.title if workflow else run.workflow
    link = f"{status_url.rstrip('/')}/runs/{run_id}"
    text = f"{title} {run.status.value}: {run.summary or ''} {link}".strip()
    tasks = store.list_tasks(run_id)
    rows = workflow.report(run, tasks, clock()).rows if workflow else []
    done = []
    if _once(
        store, run_id, "artifacts", lambda: publish_artifacts(run_id, store, artifacts), clock
    ):
        done.append("artifacts")
    if _once(store, run_id, "announce", lambda: notifier.notify(f"run-{run_id}", text), clock):
        done.append("announce")
    if _once(store, run_id, "export", lambda: exporter.export_rows(run_id, rows), clock):
        done.append("export")
    return done


def publish_artifacts(run_id: str, store: Store, artifacts: ArtifactStore) -> int:
    """Copy every artifact of the run to the artifact store and note where it went."""
    published = 0
    for artifact in store.list_artifacts(run_id):
        stored = artifacts.put(
            run_id, artifact.name, artifact.content.encode(), _with_charset(artifact.content_type)
        )
        store.save_artifact(
            run_id,
            artifact.model_copy(
                update={"uri": stored.uri, "size": stored.size, "sha256": stored.sha256}
            ),
        )
        published += 1
    return published


def _with_charset(content_type: str) -> str:
    textual = content_type.startswith("text/") or content_type == "application/json"
    return (
        f"{content_type}; charset=utf-8"
        if textual and "charset" not in content_type
        else (content_type)
    )


def _once(
    store: Store,
    run_id: str,
    step: str,
    action: Callable[[], object],
    clock: Callable[[], datetime],
) -> bool:
    def act(record: EffectRecord) -> None:
        action()

    outcome = perform_once(store, run_id, step, act, clock=clock)
    if outcome.performed:
        attempts = outcome.record.attempts
        store.append_event(
            run_event(run_id, f"effect.{step}", f"{step} done (attempt {attempts})", clock())
        )
    return outcome.performed
