"""Announcing and exporting a finished run: each effect once, and a crash in between heals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.row_exports import FirestoreRowExporter
from shared.app.run_effects import complete_run_effects
from shared.app.timeline import run_event
from shared.artifacts.local import LocalArtifactStore
from shared.core.documents import Artifact, RunDoc, TaskDoc
from shared.core.models import LlmUsage, RunStatus, TaskStatus

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


class FlakyNotifier:
    """Stands in for Slack at the outer edge: fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[str, str]] = []

    def notify(self, key: str, text: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("slack unreachable")
        self.sent.append((key, text))


def _finished_run(store: FirestoreStore, run_id: str) -> None:
    run = RunDoc(
        run_id=run_id, workflow="weekly_gtm", trigger="schedule", task_count=1, created_at=NOW
    )
    task = TaskDoc(run_id=run_id, task_id="finance", agent="finance", created_at=NOW)
    store.create_run(run, [task], [run_event(run_id, "run.created", "created", NOW)])
    output = {
        "summary": "ok",
        "report": {"revenue": {"total_revenue_cents": 1234, "months": [1, 2]}},
    }
    store.finish_task(run_id, "finance", TaskStatus.SUCCEEDED, NOW, output=output)
    store.finish_run(
        run.model_copy(
            update={"status": RunStatus.SUCCEEDED, "summary": "Finance: up", "usage": LlmUsage()}
        )
    )


def _effects(
    store: FirestoreStore, run_id: str, notifier: FlakyNotifier, folder: Path
) -> list[str]:
    return complete_run_effects(
        run_id,
        store=store,
        notifier=notifier,
        exporter=FirestoreRowExporter(store.project_id, client=store.client),
        artifacts=LocalArtifactStore(folder),
        status_url="http://status.test",
        clock=lambda: NOW,
    )


def test_a_finished_run_is_published_announced_and_exported_once(
    store: FirestoreStore, tmp_path: Path
) -> None:
    _finished_run(store, "run-fx-1")
    report = Artifact(
        name="report.md", content_type="text/markdown", content="# Ré", created_at=NOW
    )
    store.save_artifact("run-fx-1", report)
    notifier = FlakyNotifier()

    first = _effects(store, "run-fx-1", notifier, tmp_path)
    second = _effects(store, "run-fx-1", notifier, tmp_path)

    assert (first, second) == (["artifacts", "announce", "export"], [])
    published = store.get_artifact("run-fx-1", "report.md")
    assert published is not None and published.uri is not None
    assert published.uri.startswith("file://") and published.size == len("# Ré".encode())
    assert (tmp_path / "runs" / "run-fx-1" / "report.md").read_text() == "# Ré"
    assert notifier.sent == [
        (
            "run-run-fx-1",
            "Weekly go-to-market report succeeded: Finance: up http://status.test/runs/run-fx-1",
        )
    ]
    exported = store.client.collection("sheet_exports").document("run-fx-1").get().to_dict()
    assert exported["rows"] == [
        {"items": ["run-fx-1", "finance", "revenue.total_revenue_cents", 1234]}
    ]


def test_a_failed_announcement_is_retried_by_the_redelivery_and_recorded_once(
    store: FirestoreStore, tmp_path: Path
) -> None:
    _finished_run(store, "run-fx-2")
    notifier = FlakyNotifier(failures=1)

    with pytest.raises(ConnectionError):
        _effects(store, "run-fx-2", notifier, tmp_path)
    retried = _effects(store, "run-fx-2", notifier, tmp_path)

    assert retried == ["announce", "export"]
    assert len(notifier.sent) == 1
    announced = [e.message for e in store.list_events("run-fx-2") if e.type == "effect.announce"]
    assert announced == ["announce done (attempt 2)"]
