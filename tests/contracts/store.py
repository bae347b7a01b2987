"""The conformance suite of the `Store` port (shared.core.ports.Store, with its EffectLedger).

Written against the protocol only, the way LangGraph checks every checkpointer with one
suite: a test module binds it to an implementation by subclassing `StoreContract` and
providing a `store_factory` fixture, e.g.

    @pytest.fixture
    def store_factory(clean_emulators: Emulators) -> StoreFactory:
        return lambda: FirestoreStore(clean_emulators.project)

    class TestFirestoreStore(StoreContract):
        pass

Each call of the factory opens a store on the same backend, which is empty when the test
starts; the racing tests give every racer its own store, as every function instance has.
A binding that knows its store breaks a promise overrides that one test, marked
`pytest.mark.xfail(strict=True, reason=...)`, and calls the contract's version.

Every time given to the store is fixed (NOW and offsets from it), so orders are known.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from shared.core.documents import (
    ApprovalDoc,
    Artifact,
    EffectRecord,
    IdempotencyRecord,
    RunDoc,
    RunEvent,
    TaskDoc,
)
from shared.core.effects import perform_once
from shared.core.messages import StripeEvent
from shared.core.models import ApprovalStatus, LlmUsage, RunStatus, TaskStatus
from shared.core.ports import Store

StoreFactory = Callable[[], Store]
T = TypeVar("T")

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
RUN = "run-contract-1"
LEASE_S = 60


def at(*, seconds: int = 0, minutes: int = 0, hours: int = 0) -> datetime:
    """A fixed instant relative to NOW."""
    return NOW + timedelta(seconds=seconds, minutes=minutes, hours=hours)


def fixed_clock() -> datetime:
    """The clock `perform_once` reads: always NOW."""
    return NOW


def run_doc(run_id: str = RUN, *, created_at: datetime = NOW, **fields: Any) -> RunDoc:
    """A run of the weekly GTM workflow unless told otherwise."""
    values: dict[str, Any] = {"workflow": "weekly_gtm", "trigger": "api", "task_count": 0}
    values.update(fields)
    return RunDoc(run_id=run_id, created_at=created_at, **values)


def task_doc(run_id: str, task_id: str, *, step: str = "analyse") -> TaskDoc:
    """A pending task, its agent named after it."""
    return TaskDoc(
        run_id=run_id, task_id=task_id, agent=f"agent-{task_id}", step=step, created_at=NOW
    )


def event_doc(run_id: str, event_id: str, when: datetime, message: str = "") -> RunEvent:
    """A timeline entry."""
    return RunEvent(
        event_id=event_id, run_id=run_id, type="run.note", at=when, message=message or event_id
    )


def approval_doc(
    run_id: str = RUN,
    step: str = "approve",
    *,
    requested_at: datetime = NOW,
    expires_at: datetime | None = None,
    title: str = "Send the win-back emails",
) -> ApprovalDoc:
    """A pending approval, expiring a day after it was requested unless told otherwise."""
    return ApprovalDoc(
        run_id=run_id,
        step=step,
        workflow="winback",
        title=title,
        proposal={"customers": ["c1", "c2"], "roi": 3.5},
        requested_at=requested_at,
        expires_at=expires_at or requested_at + timedelta(days=1),
    )


def seed(
    store: Store,
    run_id: str = RUN,
    tasks: tuple[str, ...] = ("a1", "a2"),
    *,
    step: str = "analyse",
    **fields: Any,
) -> RunDoc:
    """Create a run with pending tasks of one step; fails the test if it cannot."""
    run = run_doc(run_id, task_count=len(tasks), **fields)
    assert store.create_run(run, [task_doc(run_id, t, step=step) for t in tasks], [])
    return run


def race(factory: StoreFactory, racers: int, call: Callable[[Store, int], T]) -> list[T]:
    """Run `call` at once in `racers` threads, each with its own store; results in order."""
    stores = [factory() for _ in range(racers)]
    start = threading.Barrier(racers)

    def one(i: int) -> T:
        start.wait(timeout=30)
        return call(stores[i], i)

    with ThreadPoolExecutor(racers) as pool:
        return list(pool.map(one, range(racers)))


def ids(docs: list[RunDoc]) -> list[str]:
    """The run ids, in the order given."""
    return [d.run_id for d in docs]


class StoreContract:
    """What every Store promises; a subclass supplies the `store_factory` fixture."""

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> Store:
        """The store under test."""
        return store_factory()

    # --- runs: creation -----------------------------------------------------------------

    def test_create_run_writes_the_run_its_tasks_and_its_events(self, store: Store) -> None:
        run = run_doc(
            params={"week": "2026-W47", "channels": ["email", "ads"]},
            task_count=2,
            deadline_at=at(minutes=15),
            requested_by="alice@example.com",
        )
        tasks = [task_doc(RUN, "a2"), task_doc(RUN, "a1")]
        events = [event_doc(RUN, "e-created", NOW, "run created")]

        assert store.create_run(run, tasks, events) is True

        assert store.get_run(RUN) == run
        assert store.list_tasks(RUN) == [tasks[1], tasks[0]]
        assert store.list_events(RUN) == events

    def test_create_run_of_an_existing_run_is_false_and_writes_nothing(self, store: Store) -> None:
        first = seed(store, tasks=("a1", "a2"))
        store.append_event(event_doc(RUN, "e-1", NOW))
        again = run_doc(workflow="winback", task_count=3)

        created = store.create_run(
            again,
            [task_doc(RUN, "a1"), task_doc(RUN, "x9")],
            [event_doc(RUN, "e-2", at(seconds=1))],
        )

        assert created is False
        assert store.get_run(RUN) == first
        assert [t.task_id for t in store.list_tasks(RUN)] == ["a1", "a2"]
        assert store.get_task(RUN, "x9") is None
        assert [e.event_id for e in store.list_events(RUN)] == ["e-1"]

    def test_racing_create_run_has_exactly_one_winner_and_only_its_tasks(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        def create(racer: Store, i: int) -> bool:
            run = run_doc(trigger=f"racer-{i}", task_count=1)
            return racer.create_run(
                run, [task_doc(RUN, f"t{i}")], [event_doc(RUN, f"e{i}", at(seconds=i))]
            )

        created = race(store_factory, 5, create)

        assert created.count(True) == 1
        winner = created.index(True)
        run = store.get_run(RUN)
        assert run is not None and run.trigger == f"racer-{winner}"
        assert [t.task_id for t in store.list_tasks(RUN)] == [f"t{winner}"]
        assert [e.event_id for e in store.list_events(RUN)] == [f"e{winner}"]

    def test_unknown_ids_read_as_none_or_empty(self, store: Store) -> None:
        seed(store, tasks=("a1",))

        assert store.get_run("no-such-run") is None
        assert store.get_task(RUN, "no-such-task") is None
        assert store.get_task("no-such-run", "a1") is None
        assert store.get_approval(RUN, "approve") is None
        assert store.get_approval("no-such-run", "approve") is None
        assert store.get_artifact(RUN, "report.md") is None
        assert store.list_tasks("no-such-run") == []
        assert store.list_tasks(RUN, step="no-such-step") == []
        assert store.list_events("no-such-run") == []
        assert store.list_artifacts("no-such-run") == []
        assert store.count_terminal_tasks("no-such-run") == 0

    # --- runs: listing ------------------------------------------------------------------

    def test_list_runs_is_newest_first_and_respects_the_limit(self, store: Store) -> None:
        for run_id, minutes in (("r-b", 2), ("r-d", 4), ("r-a", 1), ("r-c", 3)):
            seed(store, run_id, (), created_at=at(minutes=minutes))

        assert ids(store.list_runs(limit=3)) == ["r-d", "r-c", "r-b"]
        assert ids(store.list_runs(limit=1)) == ["r-d"]
        assert ids(store.list_runs()) == ["r-d", "r-c", "r-b", "r-a"]

    def test_find_runs_applies_every_filter_given(self, store: Store) -> None:
        rows = (
            ("r-1", "weekly_gtm", RunStatus.SUCCEEDED),
            ("r-2", "winback", RunStatus.RUNNING),
            ("r-3", "winback", RunStatus.SUCCEEDED),
            ("r-4", "weekly_gtm", RunStatus.RUNNING),
            ("r-5", "winback", RunStatus.SUCCEEDED),
        )
        for n, (run_id, workflow, status) in enumerate(rows):
            seed(store, run_id, (), created_at=at(hours=n), workflow=workflow, status=status)

        assert ids(store.find_runs(workflow="winback")) == ["r-5", "r-3", "r-2"]
        assert ids(store.find_runs(status="succeeded")) == ["r-5", "r-3", "r-1"]
        assert ids(store.find_runs(workflow="winback", status="succeeded")) == ["r-5", "r-3"]
        assert ids(store.find_runs(workflow="winback", status="succeeded", limit=1)) == ["r-5"]
        assert store.find_runs(workflow="no-such-workflow") == []
        assert ids(store.find_runs()) == ["r-5", "r-4", "r-3", "r-2", "r-1"]

    def test_find_runs_window_includes_its_start_and_excludes_its_end(self, store: Store) -> None:
        for n in range(4):
            seed(store, f"r-{n}", (), created_at=at(hours=n))

        found = store.find_runs(created_from=at(hours=1), created_before=at(hours=3))

        assert ids(found) == ["r-2", "r-1"]
        assert ids(store.find_runs(created_from=at(hours=3))) == ["r-3"]
        assert ids(store.find_runs(created_before=at(hours=1))) == ["r-0"]

    def test_find_runs_breaks_ties_by_run_id_and_pages_without_gaps_or_repeats(
        self, store: Store
    ) -> None:
        for run_id, hours in (("r-1", 0), ("r-4", 0), ("r-3", 1), ("r-2", 0), ("r-5", 1)):
            seed(store, run_id, (), created_at=at(hours=hours))
        expected = ["r-5", "r-3", "r-4", "r-2", "r-1"]

        pages: list[list[str]] = []
        after: tuple[datetime, str] | None = None
        while len(pages) < 5:
            page = store.find_runs(after=after, limit=2)
            if not page:
                break
            pages.append(ids(page))
            after = (page[-1].created_at, page[-1].run_id)

        assert ids(store.find_runs()) == expected
        assert pages == [["r-5", "r-3"], ["r-4", "r-2"], ["r-1"]]

    def test_list_overdue_runs_is_running_runs_past_deadline_oldest_deadline_first(
        self, store: Store
    ) -> None:
        rows: tuple[tuple[str, RunStatus, datetime | None], ...] = (
            ("late-1h", RunStatus.RUNNING, at(hours=-1)),
            ("not-yet", RunStatus.RUNNING, at(hours=1)),
            ("late-2h", RunStatus.RUNNING, at(hours=-2)),
            ("no-deadline", RunStatus.RUNNING, None),
            ("waiting-late", RunStatus.WAITING, at(hours=-3)),
            ("over-late", RunStatus.SUCCEEDED, at(hours=-3)),
            ("late-1m", RunStatus.RUNNING, at(minutes=-1)),
        )
        for run_id, status, deadline in rows:
            seed(store, run_id, (), status=status, deadline_at=deadline)

        assert ids(store.list_overdue_runs(NOW)) == ["late-2h", "late-1h", "late-1m"]
        assert ids(store.list_overdue_runs(NOW, limit=2)) == ["late-2h", "late-1h"]
        assert ids(store.list_overdue_runs(at(hours=-3))) == []

    # --- runs: changes ------------------------------------------------------------------

    def test_update_run_changes_only_the_given_fields_and_returns_the_run(
        self, store: Store
    ) -> None:
        run = seed(store, params={"week": "2026-W47"})

        updated = store.update_run(RUN, {"step": "report", "summary": "half way"})

        assert updated == run.model_copy(update={"step": "report", "summary": "half way"})
        assert store.get_run(RUN) == updated

    def test_transition_run_applies_from_an_allowed_status(self, store: Store) -> None:
        run = seed(store, status=RunStatus.WAITING)

        moved = store.transition_run(
            RUN,
            (RunStatus.RUNNING, RunStatus.WAITING),
            {"status": RunStatus.CANCELLED.value, "finished_at": at(minutes=5)},
        )

        expected = run.model_copy(
            update={"status": RunStatus.CANCELLED, "finished_at": at(minutes=5)}
        )
        assert moved == expected
        assert store.get_run(RUN) == expected

    def test_transition_run_from_another_status_or_of_no_run_changes_nothing(
        self, store: Store
    ) -> None:
        run = seed(store, status=RunStatus.SUCCEEDED, finished_at=at(minutes=1))

        refused = store.transition_run(
            RUN, (RunStatus.RUNNING, RunStatus.WAITING), {"status": RunStatus.CANCELLED.value}
        )
        unknown = store.transition_run(
            "no-such-run", (RunStatus.RUNNING,), {"status": RunStatus.CANCELLED.value}
        )

        assert refused is None and unknown is None
        assert store.get_run(RUN) == run
        assert store.get_run("no-such-run") is None

    def test_racing_transitions_from_one_status_have_exactly_one_winner(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        seed(store)

        def cancel(racer: Store, i: int) -> RunDoc | None:
            return racer.transition_run(
                RUN, (RunStatus.RUNNING,), {"status": "cancelled", "summary": f"by {i}"}
            )

        results = race(store_factory, 4, cancel)

        winners = [i for i, r in enumerate(results) if r is not None]
        assert len(winners) == 1
        run = store.get_run(RUN)
        assert run is not None and run.status is RunStatus.CANCELLED
        assert run.summary == f"by {winners[0]}"

    def test_finish_run_writes_the_final_status_summary_and_totals(self, store: Store) -> None:
        run = seed(store, tasks=("a1",))
        final = run.model_copy(
            update={
                "status": RunStatus.FAILED,
                "failed_step": "analyse",
                "finished_at": at(minutes=3),
                "duration_s": 180.0,
                "summary": "1 of 1 task failed",
                "failure_reasons": ["a1: timeout"],
                "usage": LlmUsage(provider="openai", model="m", tokens_in=10, calls=1),
            }
        )

        store.finish_run(final)

        assert store.get_run(RUN) == final
        assert [t.task_id for t in store.list_tasks(RUN)] == ["a1"]

    # --- tasks --------------------------------------------------------------------------

    def test_list_tasks_is_by_task_id_and_filters_by_step(self, store: Store) -> None:
        seed(store, tasks=("b2", "a1", "c3"))
        store.add_tasks(
            RUN, [task_doc(RUN, "r2", step="report"), task_doc(RUN, "r1", step="report")]
        )

        assert [t.task_id for t in store.list_tasks(RUN)] == ["a1", "b2", "c3", "r1", "r2"]
        assert [t.task_id for t in store.list_tasks(RUN, step="report")] == ["r1", "r2"]
        assert [t.task_id for t in store.list_tasks(RUN, step="analyse")] == ["a1", "b2", "c3"]

    def test_add_tasks_creates_the_new_and_leaves_existing_tasks_as_they_are(
        self, store: Store
    ) -> None:
        seed(store, tasks=("a1", "a2"))
        store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)
        store.finish_task(RUN, "a1", TaskStatus.SUCCEEDED, at(seconds=5), output={"x": 1})
        store.claim_task(RUN, "a2", "msg-2", LEASE_S, NOW)
        before = {t.task_id: t for t in store.list_tasks(RUN)}

        store.add_tasks(RUN, [task_doc(RUN, "a1"), task_doc(RUN, "a2"), task_doc(RUN, "a3")])
        store.add_tasks(RUN, [task_doc(RUN, "a3")])  # a redelivery adds nothing more

        assert store.get_task(RUN, "a1") == before["a1"]
        assert store.get_task(RUN, "a2") == before["a2"]
        assert store.get_task(RUN, "a3") == task_doc(RUN, "a3")
        assert [t.task_id for t in store.list_tasks(RUN)] == ["a1", "a2", "a3"]

    def test_claim_task_starts_an_attempt_with_a_lease(self, store: Store) -> None:
        seed(store)

        claim = store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)

        assert claim.outcome == "claimed"
        task = claim.task
        assert task.status is TaskStatus.RUNNING
        assert task.attempts == 1
        assert task.lease_owner == "msg-1"
        assert task.lease_until == at(seconds=LEASE_S)
        assert task.started_at == NOW
        assert store.get_task(RUN, "a1") == task
        other = store.get_task(RUN, "a2")
        assert other is not None and other.status is TaskStatus.PENDING

    def test_claim_task_is_busy_while_another_owner_holds_the_lease(self, store: Store) -> None:
        seed(store)
        first = store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)

        second = store.claim_task(RUN, "a1", "msg-2", LEASE_S, at(seconds=LEASE_S - 1))

        assert second.outcome == "busy"
        assert second.task == first.task
        assert store.get_task(RUN, "a1") == first.task

    def test_claim_task_by_the_same_owner_again_is_a_new_attempt(self, store: Store) -> None:
        seed(store)
        store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)

        again = store.claim_task(RUN, "a1", "msg-1", LEASE_S, at(seconds=10))

        assert again.outcome == "claimed"
        assert again.task.attempts == 2
        assert again.task.lease_until == at(seconds=10 + LEASE_S)
        assert again.task.started_at == NOW  # the first attempt's start
        assert store.get_task(RUN, "a1") == again.task

    def test_claim_task_after_the_lease_ran_out_goes_to_the_new_owner(self, store: Store) -> None:
        seed(store)
        store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)

        late = store.claim_task(RUN, "a1", "msg-2", LEASE_S, at(seconds=LEASE_S + 1))

        assert late.outcome == "claimed"
        assert (late.task.attempts, late.task.lease_owner) == (2, "msg-2")
        assert store.get_task(RUN, "a1") == late.task

    def test_claim_task_of_a_terminal_task_is_terminal_and_changes_nothing(
        self, store: Store
    ) -> None:
        seed(store)
        store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)
        store.finish_task(RUN, "a1", TaskStatus.FAILED, at(seconds=5), error="boom")
        done = store.get_task(RUN, "a1")

        claim = store.claim_task(RUN, "a1", "msg-2", LEASE_S, at(seconds=6))

        assert claim.outcome == "terminal"
        assert claim.task == done
        assert store.get_task(RUN, "a1") == done

    def test_racing_claims_give_the_task_to_exactly_one_owner(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        seed(store)

        claims = race(
            store_factory, 5, lambda racer, i: racer.claim_task(RUN, "a1", f"m{i}", LEASE_S, NOW)
        )

        outcomes = [c.outcome for c in claims]
        assert sorted(outcomes) == ["busy"] * 4 + ["claimed"]
        task = store.get_task(RUN, "a1")
        assert task is not None and task.attempts == 1
        assert task.lease_owner == f"m{outcomes.index('claimed')}"

    def test_finish_task_makes_the_task_terminal_with_its_outcome(self, store: Store) -> None:
        seed(store)
        store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)
        usage = LlmUsage(provider="openai", model="gpt", tokens_in=120, tokens_out=30, calls=1)

        finished = store.finish_task(
            RUN, "a1", TaskStatus.SUCCEEDED, at(seconds=30), output={"revenue": 12300}, usage=usage
        )

        assert finished is True
        task = store.get_task(RUN, "a1")
        assert task is not None
        assert task.status is TaskStatus.SUCCEEDED
        assert (task.output, task.error, task.usage) == ({"revenue": 12300}, None, usage)
        assert task.finished_at == at(seconds=30)
        assert (task.lease_owner, task.lease_until) == (None, None)

    def test_finish_task_of_a_terminal_task_is_false_and_changes_nothing(
        self, store: Store
    ) -> None:
        seed(store)
        store.claim_task(RUN, "a1", "msg-1", LEASE_S, NOW)
        assert store.finish_task(RUN, "a1", TaskStatus.FAILED, at(seconds=5), error="boom")
        failed = store.get_task(RUN, "a1")

        again = store.finish_task(
            RUN, "a1", TaskStatus.SUCCEEDED, at(seconds=9), output={"late": True}
        )

        assert again is False
        assert failed is not None and failed.error == "boom"
        assert store.get_task(RUN, "a1") == failed

    def test_finish_task_of_an_unclaimed_task_makes_it_terminal(self, store: Store) -> None:
        seed(store)

        assert store.finish_task(RUN, "a2", TaskStatus.FAILED, NOW, error="skipped") is True

        task = store.get_task(RUN, "a2")
        assert task is not None and (task.status, task.error) == (TaskStatus.FAILED, "skipped")
        assert store.claim_task(RUN, "a2", "msg-1", LEASE_S, NOW).outcome == "terminal"

    def test_release_task_keeps_the_error_and_frees_the_lease(self, store: Store) -> None:
        seed(store)
        store.claim_task(RUN, "a1", "msg-1", 600, NOW)

        store.release_task(RUN, "a1", "msg-1", "ConnectionError: boom")
        retry = store.claim_task(RUN, "a1", "msg-2", 600, at(seconds=1))

        assert retry.outcome == "claimed"
        assert (retry.task.attempts, retry.task.lease_owner) == (2, "msg-2")
        task = store.get_task(RUN, "a1")
        assert task is not None and task.last_error == "ConnectionError: boom"

    def test_release_task_by_another_owner_leaves_the_lease(self, store: Store) -> None:
        seed(store)
        claimed = store.claim_task(RUN, "a1", "msg-1", 600, NOW).task

        store.release_task(RUN, "a1", "msg-2", "stale delivery")

        assert store.get_task(RUN, "a1") == claimed
        assert store.claim_task(RUN, "a1", "msg-2", 600, at(seconds=1)).outcome == "busy"

    def test_reset_failed_tasks_makes_the_steps_failed_tasks_pending_again(
        self, store: Store
    ) -> None:
        seed(store, tasks=("a1", "a2", "a3"))
        store.add_tasks(RUN, [task_doc(RUN, "r1", step="report")])
        outcomes = {"a1": "boom-1", "a2": None, "a3": "boom-3", "r1": "boom-r"}
        for task_id, error in outcomes.items():
            store.claim_task(RUN, task_id, "msg-1", LEASE_S, NOW)
            status = TaskStatus.FAILED if error else TaskStatus.SUCCEEDED
            store.finish_task(RUN, task_id, status, at(seconds=5), error=error)

        reset = store.reset_failed_tasks(RUN, "analyse")

        assert sorted(t.task_id for t in reset) == ["a1", "a3"]
        assert {t.status for t in reset} == {TaskStatus.PENDING}
        a1 = store.get_task(RUN, "a1")
        assert a1 is not None
        assert (a1.status, a1.error, a1.last_error) == (TaskStatus.PENDING, None, "boom-1")
        assert (a1.lease_owner, a1.lease_until, a1.finished_at) == (None, None, None)
        a2, r1 = store.get_task(RUN, "a2"), store.get_task(RUN, "r1")
        assert a2 is not None and a2.status is TaskStatus.SUCCEEDED
        assert r1 is not None and (r1.status, r1.error) == (TaskStatus.FAILED, "boom-r")
        assert store.count_terminal_tasks(RUN, step="analyse") == 1
        retry = store.claim_task(RUN, "a1", "msg-2", LEASE_S, at(minutes=1))
        assert (retry.outcome, retry.task.attempts) == ("claimed", 2)
        assert store.reset_failed_tasks(RUN, "analyse") == []

    def test_reset_failed_tasks_returns_the_tasks_as_they_now_stand(self, store: Store) -> None:
        seed(store, tasks=("a1", "a2"))
        for task_id in ("a1", "a2"):
            store.claim_task(RUN, task_id, "msg-1", LEASE_S, NOW)
            store.finish_task(RUN, task_id, TaskStatus.FAILED, at(seconds=5), error=f"e-{task_id}")

        reset = store.reset_failed_tasks(RUN, "analyse")

        assert sorted(reset, key=lambda t: t.task_id) == store.list_tasks(RUN)
        assert [(t.error, t.last_error) for t in reset] == [(None, "e-a1"), (None, "e-a2")]

    def test_count_terminal_tasks_counts_succeeded_and_failed_per_run_or_step(
        self, store: Store
    ) -> None:
        seed(store, tasks=("a1", "a2", "a3", "a4"))
        store.add_tasks(RUN, [task_doc(RUN, "r1", step="report")])
        seed(store, "run-other", ("a1",))
        store.claim_task(RUN, "a2", "msg-1", LEASE_S, NOW)  # running: not terminal
        store.finish_task(RUN, "a3", TaskStatus.SUCCEEDED, NOW)
        store.finish_task(RUN, "a4", TaskStatus.FAILED, NOW, error="boom")
        store.finish_task(RUN, "r1", TaskStatus.SUCCEEDED, NOW)
        store.finish_task("run-other", "a1", TaskStatus.SUCCEEDED, NOW)

        assert store.count_terminal_tasks(RUN) == 3
        assert store.count_terminal_tasks(RUN, step="analyse") == 2
        assert store.count_terminal_tasks(RUN, step="report") == 1
        assert store.count_terminal_tasks(RUN, step="no-such-step") == 0

    # --- timeline -----------------------------------------------------------------------

    def test_append_event_happens_once_per_id_and_keeps_the_first(self, store: Store) -> None:
        seed(store)
        event = event_doc(RUN, "e-1", at(seconds=1), "first words")

        assert store.append_event(event) is True
        assert store.append_event(event.model_copy(update={"message": "rewritten"})) is False

        assert store.list_events(RUN) == [event]

    def test_list_events_is_the_runs_timeline_oldest_first(self, store: Store) -> None:
        run = run_doc()
        assert store.create_run(run, [], [event_doc(RUN, "e-created", NOW)])
        seed(store, "run-other", ())
        for event_id, seconds in (("e-late", 50), ("e-early", 10), ("e-mid", 30)):
            assert store.append_event(event_doc(RUN, event_id, at(seconds=seconds)))
        assert store.append_event(event_doc("run-other", "e-other", at(seconds=20)))

        timeline = [e.event_id for e in store.list_events(RUN)]

        assert timeline == ["e-created", "e-early", "e-mid", "e-late"]

    # --- approvals ----------------------------------------------------------------------

    def test_create_approval_asks_once(self, store: Store) -> None:
        seed(store, status=RunStatus.WAITING)
        approval = approval_doc()

        assert store.create_approval(approval) is True
        assert store.create_approval(approval_doc(title="asked again")) is False

        assert store.get_approval(RUN, "approve") == approval
        assert store.get_approval(RUN, "other-step") is None

    def test_decide_approval_records_a_timely_decision(self, store: Store) -> None:
        seed(store, status=RunStatus.WAITING)
        store.create_approval(approval_doc(expires_at=at(hours=1)))

        decided, changed = store.decide_approval(
            RUN,
            "approve",
            ApprovalStatus.APPROVED,
            "alice@example.com",
            at(minutes=59),
            "go ahead",
            {"subject": "We miss you"},
        )

        assert changed is True
        assert decided.status is ApprovalStatus.APPROVED
        assert (decided.decided_by, decided.decided_at) == ("alice@example.com", at(minutes=59))
        assert (decided.comment, decided.edits) == ("go ahead", {"subject": "We miss you"})
        assert store.get_approval(RUN, "approve") == decided

    def test_decide_approval_a_second_time_changes_nothing(self, store: Store) -> None:
        seed(store, status=RunStatus.WAITING)
        store.create_approval(approval_doc())
        first, _ = store.decide_approval(
            RUN, "approve", ApprovalStatus.APPROVED, "alice", at(minutes=1), "", {}
        )

        second, changed = store.decide_approval(
            RUN, "approve", ApprovalStatus.REJECTED, "bob", at(minutes=2), "no", {}
        )

        assert changed is False
        assert second == first
        assert store.get_approval(RUN, "approve") == first

    def test_decide_approval_past_its_expiry_expires_it_instead(self, store: Store) -> None:
        seed(store, status=RunStatus.WAITING)
        store.create_approval(approval_doc(expires_at=at(hours=1)))

        decided, changed = store.decide_approval(
            RUN, "approve", ApprovalStatus.APPROVED, "alice", at(hours=2), "late", {"x": 1}
        )

        assert changed is False
        assert decided.status is ApprovalStatus.EXPIRED
        assert decided.edits == {}
        assert store.get_approval(RUN, "approve") == decided
        later, again = store.decide_approval(
            RUN, "approve", ApprovalStatus.APPROVED, "alice", at(hours=3), "", {}
        )
        assert (later.status, again) == (ApprovalStatus.EXPIRED, False)

    def test_decide_approval_as_expired_is_the_sweepers_decision(self, store: Store) -> None:
        seed(store, status=RunStatus.WAITING)
        store.create_approval(approval_doc(expires_at=at(hours=1)))

        decided, changed = store.decide_approval(
            RUN, "approve", ApprovalStatus.EXPIRED, "sweeper", at(hours=2), "", {}
        )

        assert (decided.status, changed) == (ApprovalStatus.EXPIRED, True)
        stored = store.get_approval(RUN, "approve")
        assert stored is not None and stored.status is ApprovalStatus.EXPIRED

    def test_list_approvals_has_one_status_oldest_request_first(self, store: Store) -> None:
        rows = (("r-1", "approve", 2), ("r-2", "approve", 0), ("r-3", "approve", 1))
        for run_id, step, minutes in rows:
            seed(store, run_id, (), status=RunStatus.WAITING)
            store.create_approval(approval_doc(run_id, step, requested_at=at(minutes=minutes)))
        store.create_approval(approval_doc("r-1", "budget", requested_at=at(minutes=-5)))
        store.decide_approval("r-1", "budget", ApprovalStatus.APPROVED, "alice", NOW, "", {})

        pending = store.list_approvals(ApprovalStatus.PENDING)

        assert [(a.run_id, a.step) for a in pending] == [
            ("r-2", "approve"),
            ("r-3", "approve"),
            ("r-1", "approve"),
        ]
        assert [a.run_id for a in store.list_approvals(ApprovalStatus.PENDING, limit=2)] == [
            "r-2",
            "r-3",
        ]
        approved = store.list_approvals(ApprovalStatus.APPROVED)
        assert [(a.run_id, a.step) for a in approved] == [("r-1", "budget")]
        assert store.list_approvals(ApprovalStatus.REJECTED) == []

    def test_list_expired_approvals_is_the_pending_ones_past_expiry(self, store: Store) -> None:
        rows = (("e-1", at(hours=-2)), ("e-2", at(hours=-1)), ("fresh", at(hours=1)))
        for run_id, expires in rows:
            seed(store, run_id, (), status=RunStatus.WAITING)
            store.create_approval(
                approval_doc(run_id, requested_at=at(hours=-5), expires_at=expires)
            )
        seed(store, "decided", (), status=RunStatus.WAITING)
        store.create_approval(
            approval_doc("decided", requested_at=at(hours=-5), expires_at=at(hours=-3))
        )
        store.decide_approval(
            "decided", "approve", ApprovalStatus.APPROVED, "alice", at(hours=-4), "", {}
        )

        expired = store.list_expired_approvals(NOW)
        first = store.list_expired_approvals(NOW, limit=1)

        assert sorted(a.run_id for a in expired) == ["e-1", "e-2"]
        assert {a.status for a in expired} == {ApprovalStatus.PENDING}
        assert len(first) == 1 and first[0].run_id in {"e-1", "e-2"}
        assert store.list_expired_approvals(at(hours=-6)) == []

    def test_the_expiry_instant_means_the_same_to_listing_and_deciding(self, store: Store) -> None:
        seed(store, status=RunStatus.WAITING)
        store.create_approval(approval_doc(expires_at=at(hours=1)))

        listed = [a.step for a in store.list_expired_approvals(at(hours=1))] == ["approve"]
        decided, _ = store.decide_approval(
            RUN, "approve", ApprovalStatus.APPROVED, "alice", at(hours=1), "", {}
        )

        # Either the instant is past the expiry for both, or for neither.
        assert listed == (decided.status is ApprovalStatus.EXPIRED)

    # --- markers ------------------------------------------------------------------------

    def test_claim_marker_belongs_to_the_first_owner_only(self, store: Store) -> None:
        seed(store)

        assert store.claim_marker(RUN, "analyse-1", "msg-a") is True
        assert store.claim_marker(RUN, "analyse-1", "msg-b") is False
        assert store.claim_marker(RUN, "analyse-1", "msg-a") is True  # a redelivery
        assert store.claim_marker(RUN, "analyse-1", "msg-b") is False

    def test_claim_marker_without_create_only_checks_the_owner(self, store: Store) -> None:
        seed(store)
        store.claim_marker(RUN, "finish-1", "msg-a")

        assert store.claim_marker(RUN, "finish-1", "msg-a", create=False) is True
        assert store.claim_marker(RUN, "finish-1", "msg-b", create=False) is False
        assert store.claim_marker(RUN, "report-1", "msg-b", create=False) is False
        # Checking created nothing: the marker is still free for whoever claims it first.
        assert store.claim_marker(RUN, "report-1", "msg-c") is True
        assert store.claim_marker(RUN, "report-1", "msg-b", create=False) is False

    def test_markers_are_separate_per_name_and_per_run(self, store: Store) -> None:
        seed(store)
        seed(store, "run-other", ())

        assert store.claim_marker(RUN, "analyse-1", "msg-a") is True
        assert store.claim_marker(RUN, "analyse-2", "msg-b") is True
        assert store.claim_marker("run-other", "analyse-1", "msg-c") is True
        assert store.claim_marker(RUN, "analyse-1", "msg-c", create=False) is False

    def test_racing_marker_claims_have_exactly_one_winner(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        seed(store)

        won = race(store_factory, 5, lambda racer, i: racer.claim_marker(RUN, "finish-1", f"m{i}"))

        assert won.count(True) == 1
        winner = f"m{won.index(True)}"
        assert store.claim_marker(RUN, "finish-1", winner, create=False) is True

    # --- artifacts ----------------------------------------------------------------------

    def test_save_artifact_then_get_it(self, store: Store) -> None:
        seed(store)
        report = Artifact(
            name="report.md",
            content_type="text/markdown; charset=utf-8",
            content="# Weekly GTM\n\nRevenue up 4 % (€12,300).\n",
            created_at=NOW,
            uri="file:///tmp/runs/run-contract-1/report.md",
            size=42,
            sha256="0" * 64,
        )

        store.save_artifact(RUN, report)

        assert store.get_artifact(RUN, "report.md") == report
        assert store.get_artifact("run-other", "report.md") is None

    def test_save_artifact_overwrites_the_same_name(self, store: Store) -> None:
        seed(store)
        first = Artifact(
            name="report.md", content_type="text/markdown", content="v1", created_at=NOW
        )
        second = first.model_copy(update={"content": "v2", "created_at": at(minutes=1)})

        store.save_artifact(RUN, first)
        store.save_artifact(RUN, second)

        assert store.get_artifact(RUN, "report.md") == second
        assert store.list_artifacts(RUN) == [second]

    def test_list_artifacts_is_every_artifact_of_the_run_by_name(self, store: Store) -> None:
        seed(store)
        seed(store, "run-other", ())
        for name in ("report.md", "announce.txt", "numbers.csv"):
            store.save_artifact(
                RUN, Artifact(name=name, content_type="text/plain", content=name, created_at=NOW)
            )
        store.save_artifact(
            "run-other",
            Artifact(name="other.md", content_type="text/plain", content="", created_at=NOW),
        )

        names = [a.name for a in store.list_artifacts(RUN)]

        assert names == ["announce.txt", "numbers.csv", "report.md"]

    # --- Stripe events and idempotency keys ---------------------------------------------

    def test_a_stripe_event_is_due_for_publishing_until_it_is_marked_published(
        self, store: Store
    ) -> None:
        event = StripeEvent(
            id="evt_1",
            type="customer.subscription.deleted",
            created=NOW,
            customer_id="cus_1",
            object_id="sub_1",
            is_churn_signal=True,
        )

        assert store.record_stripe_event(event, NOW) is True
        assert store.record_stripe_event(event, at(minutes=1)) is True  # publish never confirmed
        store.mark_stripe_event_published(event.id)
        assert store.record_stripe_event(event, at(minutes=2)) is False
        assert store.record_stripe_event(event.model_copy(update={"id": "evt_2"}), NOW) is True

    def test_reserve_idempotency_key_keeps_the_first_record(self, store: Store) -> None:
        first = IdempotencyRecord(key="k-1", run_id="run-a", workflow="winback", created_at=NOW)
        second = first.model_copy(update={"run_id": "run-b", "created_at": at(minutes=1)})
        third = first.model_copy(update={"run_id": "run-c", "created_at": at(minutes=2)})

        assert store.reserve_idempotency_key(first) is None
        assert store.reserve_idempotency_key(second) == first
        assert store.reserve_idempotency_key(third) == first
        assert store.reserve_idempotency_key(first.model_copy(update={"key": "k-2"})) is None

    def test_racing_reservations_of_a_key_agree_on_one_record(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        records = [
            IdempotencyRecord(key="k-race", run_id=f"run-{i}", workflow="winback", created_at=NOW)
            for i in range(5)
        ]

        earlier = race(store_factory, 5, lambda racer, i: racer.reserve_idempotency_key(records[i]))

        assert earlier.count(None) == 1
        winner = records[earlier.index(None)]
        assert [e for e in earlier if e is not None] == [winner] * 4
        assert store.reserve_idempotency_key(records[0]) == winner

    # --- effects (EffectLedger) ---------------------------------------------------------

    def test_begin_effect_records_the_intent(self, store: Store) -> None:
        record = store.begin_effect(RUN, "email-c1", NOW, {"to": "c1@example.com"})

        assert record == EffectRecord(
            step="email-c1", status="intent", intent={"to": "c1@example.com"}, started_at=NOW
        )
        assert record.attempts == 1 and record.done_at is None

    def test_begin_effect_again_counts_an_attempt_and_keeps_the_first_intent(
        self, store: Store
    ) -> None:
        store.begin_effect(RUN, "email-c1", NOW, {"to": "c1@example.com"})

        second = store.begin_effect(RUN, "email-c1", at(minutes=1), {"to": "someone@else"})
        third = store.begin_effect(RUN, "email-c1", at(minutes=2), None)

        assert (second.status, second.attempts) == ("intent", 2)
        assert (third.status, third.attempts) == ("intent", 3)
        assert second.intent == third.intent == {"to": "c1@example.com"}
        assert second.started_at == third.started_at == NOW

    def test_a_completed_effect_stays_done(self, store: Store) -> None:
        store.begin_effect(RUN, "email-c1", NOW, {"to": "c1@example.com"})

        store.complete_effect(RUN, "email-c1", at(seconds=2), result={"message_id": "m-1"})
        done = store.begin_effect(RUN, "email-c1", at(minutes=1), {"to": "c1@example.com"})
        still = store.begin_effect(RUN, "email-c1", at(minutes=2), None)

        assert done.status == "done"
        assert (done.result, done.done_at) == ({"message_id": "m-1"}, at(seconds=2))
        assert done.attempts == 1  # a look at a done record is no attempt
        assert still == done

    def test_effects_are_keyed_by_run_and_step(self, store: Store) -> None:
        store.begin_effect(RUN, "email-c1", NOW, {"to": "c1"})
        store.complete_effect(RUN, "email-c1", NOW, result={"id": 1})

        other_step = store.begin_effect(RUN, "email-c2", NOW, {"to": "c2"})
        other_run = store.begin_effect("run-other", "email-c1", NOW, {"to": "c1-again"})

        assert (other_step.status, other_step.attempts, other_step.intent) == (
            "intent",
            1,
            {"to": "c2"},
        )
        assert (other_run.status, other_run.attempts, other_run.intent) == (
            "intent",
            1,
            {"to": "c1-again"},
        )

    def test_perform_once_does_the_effect_once(self, store: Store) -> None:
        acted: list[dict[str, Any] | None] = []
        asked: list[int] = []

        def act(record: EffectRecord) -> dict[str, Any]:
            acted.append(record.intent)
            return {"message_id": f"m-{len(acted)}"}

        def find(record: EffectRecord) -> None:
            asked.append(record.attempts)

        first = perform_once(
            store, RUN, "email-c1", act, clock=fixed_clock, find=find, intent={"to": "c1"}
        )
        second = perform_once(
            store, RUN, "email-c1", act, clock=fixed_clock, find=find, intent={"to": "c9"}
        )

        assert acted == [{"to": "c1"}]
        assert asked == []  # a first attempt has nothing to look for
        assert (first.performed, second.performed, second.found) == (True, False, False)
        assert first.result == second.result == {"message_id": "m-1"}
        assert second.record.status == "done"

    def test_perform_once_after_an_interrupted_attempt_asks_before_acting(
        self, store: Store
    ) -> None:
        store.begin_effect(RUN, "email-c1", NOW, {"to": "c1"})  # the call, then a crash
        acted: list[EffectRecord] = []

        def act(record: EffectRecord) -> dict[str, Any]:
            acted.append(record)
            return {"message_id": "m-new"}

        found = perform_once(
            store,
            RUN,
            "email-c1",
            act,
            clock=fixed_clock,
            find=lambda record: {"message_id": "m-sent-before"},
        )
        again = perform_once(store, RUN, "email-c1", act, clock=fixed_clock)

        assert acted == []
        assert (found.performed, found.found) == (False, True)
        assert found.result == {"message_id": "m-sent-before"}
        assert (again.performed, again.result) == (False, {"message_id": "m-sent-before"})

    def test_perform_once_retry_repeats_the_first_attempts_intent(self, store: Store) -> None:
        store.begin_effect(RUN, "email-c1", NOW, {"subject": "We miss you"})  # then a crash
        acted: list[EffectRecord] = []

        def act(record: EffectRecord) -> dict[str, Any]:
            acted.append(record)
            return {"message_id": "m-1"}

        outcome = perform_once(
            store,
            RUN,
            "email-c1",
            act,
            clock=fixed_clock,
            find=lambda record: None,  # the outside system saw nothing
            intent={"subject": "a new decision"},
        )

        assert [(r.intent, r.attempts) for r in acted] == [({"subject": "We miss you"}, 2)]
        assert (outcome.performed, outcome.found) == (True, False)
        assert store.begin_effect(RUN, "email-c1", at(minutes=1)).status == "done"
