"""The Firestore store against the official emulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.app.timeline import run_event
from shared.core.documents import IdempotencyRecord, RunDoc, TaskDoc
from shared.core.models import TaskStatus

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def _run(
    store: FirestoreStore, run_id: str = "run-store-1", agents: tuple[str, ...] = ("a1", "a2")
) -> None:
    run = RunDoc(
        run_id=run_id, workflow="weekly_gtm", trigger="api", task_count=len(agents), created_at=NOW
    )
    tasks = [TaskDoc(run_id=run_id, task_id=a, agent=a, created_at=NOW) for a in agents]
    assert store.create_run(run, tasks, [run_event(run_id, "run.created", "created", NOW)])


def test_create_run_is_atomic_and_happens_once(store: FirestoreStore) -> None:
    _run(store)
    again = RunDoc(
        run_id="run-store-1", workflow="other", trigger="api", task_count=9, created_at=NOW
    )

    created = store.create_run(
        again, [TaskDoc(run_id="run-store-1", task_id="x", agent="x", created_at=NOW)], []
    )

    assert created is False
    run = store.get_run("run-store-1")
    assert run is not None and run.workflow == "weekly_gtm" and run.task_count == 2
    assert [t.task_id for t in store.list_tasks("run-store-1")] == ["a1", "a2"]


def test_claim_counts_attempts_and_respects_another_owners_lease(store: FirestoreStore) -> None:
    _run(store)

    first = store.claim_task("run-store-1", "a1", "msg-1", 60, NOW)
    other = store.claim_task("run-store-1", "a1", "msg-2", 60, NOW + timedelta(seconds=1))
    same_message_again = store.claim_task(
        "run-store-1", "a1", "msg-1", 60, NOW + timedelta(seconds=2)
    )
    after_expiry = store.claim_task("run-store-1", "a1", "msg-3", 60, NOW + timedelta(seconds=120))

    assert (first.outcome, first.task.attempts) == ("claimed", 1)
    assert other.outcome == "busy"
    assert (same_message_again.outcome, same_message_again.task.attempts) == ("claimed", 2)
    assert (after_expiry.outcome, after_expiry.task.attempts) == ("claimed", 3)


def test_finish_task_happens_once_and_terminal_tasks_cannot_be_claimed(
    store: FirestoreStore,
) -> None:
    _run(store)
    store.claim_task("run-store-1", "a1", "msg-1", 60, NOW)

    first = store.finish_task("run-store-1", "a1", TaskStatus.SUCCEEDED, NOW, output={"x": 1})
    second = store.finish_task("run-store-1", "a1", TaskStatus.FAILED, NOW, error="late duplicate")
    claim = store.claim_task("run-store-1", "a1", "msg-9", 60, NOW)

    assert (first, second) == (True, False)
    task = store.get_task("run-store-1", "a1")
    assert task is not None and task.status is TaskStatus.SUCCEEDED and task.output == {"x": 1}
    assert claim.outcome == "terminal"
    assert store.count_terminal_tasks("run-store-1") == 1


def test_release_records_the_error_and_frees_the_lease(store: FirestoreStore) -> None:
    _run(store)
    store.claim_task("run-store-1", "a1", "msg-1", 600, NOW)

    store.release_task("run-store-1", "a1", "msg-1", "ConnectionError: boom")
    claim = store.claim_task("run-store-1", "a1", "msg-2", 600, NOW + timedelta(seconds=1))

    assert claim.outcome == "claimed"
    assert claim.task.attempts == 2
    task = store.get_task("run-store-1", "a1")
    assert task is not None and task.last_error == "ConnectionError: boom"


def test_events_are_deduplicated_by_id_and_listed_in_time_order(store: FirestoreStore) -> None:
    _run(store)
    later = run_event(
        "run-store-1", "task.started", "second", NOW + timedelta(seconds=5), task_id="a1", attempt=1
    )
    earlier = run_event(
        "run-store-1", "task.started", "first", NOW + timedelta(seconds=1), task_id="a2", attempt=1
    )

    assert store.append_event(later) is True
    assert store.append_event(earlier) is True
    assert store.append_event(later.model_copy(update={"message": "dup"})) is False

    messages = [e.message for e in store.list_events("run-store-1")]
    assert messages == ["created", "first", "second"]


def test_idempotency_key_returns_the_first_record(store: FirestoreStore) -> None:
    first = IdempotencyRecord(key="k-1", run_id="run-a", workflow="weekly_gtm", created_at=NOW)
    second = IdempotencyRecord(key="k-1", run_id="run-b", workflow="weekly_gtm", created_at=NOW)

    assert store.reserve_idempotency_key(first) is None
    earlier = store.reserve_idempotency_key(second)

    assert earlier is not None and earlier.run_id == "run-a"


def test_runs_are_listed_newest_first(store: FirestoreStore) -> None:
    for i in range(3):
        run = RunDoc(run_id=f"run-order-{i}", workflow="weekly_gtm", trigger="api", task_count=0,
                     created_at=NOW + timedelta(minutes=i))  # fmt: skip
        store.create_run(run, [], [])

    assert [r.run_id for r in store.list_runs(limit=2)] == ["run-order-2", "run-order-1"]


def test_racing_claims_and_finishes_each_win_exactly_once(store: FirestoreStore) -> None:
    _run(store)
    owners = [f"msg-{n}" for n in range(8)]
    with ThreadPoolExecutor(len(owners)) as pool:
        claims = list(pool.map(lambda o: store.claim_task("run-store-1", "a1", o, 60, NOW), owners))
        finishes = list(
            pool.map(
                lambda o: store.finish_task(
                    "run-store-1", "a1", TaskStatus.SUCCEEDED, NOW, output={"by": o}
                ),
                owners,
            )
        )

    assert sorted(c.outcome for c in claims) == ["busy"] * 7 + ["claimed"]
    assert finishes.count(True) == 1
    task = store.get_task("run-store-1", "a1")
    winner = owners[finishes.index(True)]
    assert task is not None and task.attempts == 1 and task.output == {"by": winner}
