"""The Store port on Firestore (the emulator locally, native mode in the cloud).

Layout: runs/{run}, runs/{run}/tasks/{task}, runs/{run}/events/{event},
runs/{run}/artifacts/{name}, runs/{run}/approvals/{step}, runs/{run}/effects/{step},
runs/{run}/markers/{step}-{attempt} and finish-{attempt}, idempotency/{key}.
Fan-in never funnels through one hot document: each completion writes only its own task
document and counts the step's terminal tasks with an aggregation query; whoever sees the full
count tries to create the step's marker, and the one whose create succeeds moves the run on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.firestore_effects import FirestoreEffects
from shared.core.documents import (
    ApprovalDoc,
    Artifact,
    IdempotencyRecord,
    RunDoc,
    RunEvent,
    TaskDoc,
)
from shared.core.errors import InvalidMessageError, NotFoundError, RetryableError
from shared.core.messages import StripeEvent
from shared.core.models import (
    TERMINAL_TASK_STATUSES,
    ApprovalStatus,
    LlmUsage,
    RunStatus,
    TaskStatus,
)
from shared.core.ports import TaskClaim
from shared.gcp.firestore import BATCH_WRITES, firestore_safe

T = TypeVar("T")
TASK_WRITE_TRIES = 20  # compare-and-set rounds before a task write gives up for now


class FirestoreStore(FirestoreEffects):
    """Store implemented with the official google-cloud-firestore client."""

    def _run_ref(self, run_id: str) -> firestore.DocumentReference:
        return self.client.collection("runs").document(run_id)

    def _task_ref(self, run_id: str, task_id: str) -> firestore.DocumentReference:
        return self._run_ref(run_id).collection("tasks").document(task_id)

    def create_run(self, run: RunDoc, tasks: list[TaskDoc], events: list[RunEvent]) -> bool:
        """Write a run with its tasks and first events atomically; False if it exists."""
        batch = self.client.batch()
        batch.create(self._run_ref(run.run_id), run.model_dump())
        for task in tasks:
            batch.create(self._task_ref(run.run_id, task.task_id), task.model_dump())
        for event in events:
            batch.set(self._event_ref(event), event.model_dump())
        try:
            batch.commit()
        except gexc.AlreadyExists:
            return False
        return True

    def get_run(self, run_id: str) -> RunDoc | None:
        """The run, or None."""
        snap = self._run_ref(run_id).get()
        return RunDoc.model_validate(snap.to_dict()) if snap.exists else None

    def list_runs(self, limit: int = 50) -> list[RunDoc]:
        """Newest runs first."""
        query = (
            self.client.collection("runs")
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [RunDoc.model_validate(s.to_dict()) for s in query.stream()]

    def find_runs(
        self,
        *,
        workflow: str | None = None,
        status: str | None = None,
        created_from: datetime | None = None,
        created_before: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[RunDoc]:
        """Runs matching every filter given, newest first (ties by run id, descending),
        starting after the (created_at, run_id) of the previous page's last run.

        Equality filters plus a range and an order on created_at: the cloud needs the
        composite indexes runs(workflow ASC, created_at DESC), runs(status ASC, created_at
        DESC) and, for both filters at once, runs(workflow ASC, status ASC, created_at DESC).
        The document-id tie-break follows the last order's direction, as every index has it.
        """
        query = (
            self.client.collection("runs")
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .order_by(FieldPath.document_id(), direction=firestore.Query.DESCENDING)
        )
        if workflow is not None:
            query = query.where(filter=FieldFilter("workflow", "==", workflow))
        if status is not None:
            query = query.where(filter=FieldFilter("status", "==", status))
        if created_from is not None:
            query = query.where(filter=FieldFilter("created_at", ">=", created_from))
        if created_before is not None:
            query = query.where(filter=FieldFilter("created_at", "<", created_before))
        if after is not None:
            created_at, run_id = after
            query = query.start_after({"created_at": created_at, "__name__": run_id})
        return [RunDoc.model_validate(s.to_dict()) for s in query.limit(limit).stream()]

    def list_running_runs(self, limit: int = 200) -> list[RunDoc]:
        """Runs still running, newest first (the index runs(status, created_at desc))."""
        query = (
            self.client.collection("runs")
            .where(filter=FieldFilter("status", "==", "running"))
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [RunDoc.model_validate(s.to_dict()) for s in query.stream()]

    def list_overdue_runs(self, now: datetime, limit: int = 100) -> list[RunDoc]:
        """Running runs whose deadline has passed (an equality and a range on two fields:
        the composite index runs(status, deadline_at) is required in the cloud)."""
        query = (
            self.client.collection("runs")
            .where(filter=FieldFilter("status", "==", "running"))
            .where(filter=FieldFilter("deadline_at", "<", now))
            .order_by("deadline_at")
            .limit(limit)
        )
        return [RunDoc.model_validate(s.to_dict()) for s in query.stream()]

    def get_task(self, run_id: str, task_id: str) -> TaskDoc | None:
        """One task, or None."""
        snap = self._task_ref(run_id, task_id).get()
        return TaskDoc.model_validate(snap.to_dict()) if snap.exists else None

    def list_tasks(self, run_id: str, step: str | None = None) -> list[TaskDoc]:
        """Every task of a run (or of one step), by id.

        A step filter with the order on task_id needs the composite index
        tasks(step ASC, task_id ASC) in the cloud.
        """
        query = self._run_ref(run_id).collection("tasks")
        if step is not None:
            query = query.where(filter=FieldFilter("step", "==", step))
        docs = query.order_by("task_id").stream()
        return [TaskDoc.model_validate(s.to_dict()) for s in docs]

    def add_tasks(self, run_id: str, tasks: list[TaskDoc]) -> None:
        """Create the tasks in batches; a batch that meets an existing task (a redelivery
        after a crash) is written again one task at a time, skipping those that exist."""
        for start in range(0, len(tasks), BATCH_WRITES):
            chunk = tasks[start : start + BATCH_WRITES]
            batch = self.client.batch()
            for task in chunk:
                batch.create(self._task_ref(run_id, task.task_id), task.model_dump())
            try:
                batch.commit()
            except gexc.AlreadyExists:
                for task in chunk:
                    try:
                        self._task_ref(run_id, task.task_id).create(task.model_dump())
                    except gexc.AlreadyExists:
                        continue

    def reset_failed_tasks(self, run_id: str, step: str) -> list[TaskDoc]:
        """Failed tasks of the step become pending again, their error kept as last_error."""
        reset = []
        for task in self.list_tasks(run_id, step=step):
            if task.status is not TaskStatus.FAILED:
                continue
            ref = self._task_ref(run_id, task.task_id)
            ref.update(
                {
                    "status": TaskStatus.PENDING.value,
                    "last_error": task.error,
                    "error": None,
                    "finished_at": None,
                    "lease_owner": None,
                    "lease_until": None,
                }
            )
            reset.append(task.model_copy(update={"status": TaskStatus.PENDING}))
        return reset

    def update_run(self, run_id: str, updates: dict[str, Any]) -> RunDoc:
        """Change some fields of the run; returns it as it now stands."""
        ref = self._run_ref(run_id)
        ref.update(updates)
        return RunDoc.model_validate(ref.get().to_dict())

    def transition_run(
        self, run_id: str, from_statuses: Sequence[RunStatus], updates: dict[str, Any]
    ) -> RunDoc | None:
        """Apply the updates only if the run is in one of `from_statuses` (a transaction)."""
        ref = self._run_ref(run_id)
        allowed = {status.value for status in from_statuses}

        @firestore.transactional
        def transition(transaction: firestore.Transaction) -> RunDoc | None:
            snap = ref.get(transaction=transaction)
            if not snap.exists or snap.get("status") not in allowed:
                return None
            transaction.update(ref, updates)
            return RunDoc.model_validate({**(snap.to_dict() or {}), **updates})

        result: RunDoc | None = transition(self.client.transaction())
        return result

    def _approval_ref(self, run_id: str, step: str) -> firestore.DocumentReference:
        return self._run_ref(run_id).collection("approvals").document(step)

    def create_approval(self, approval: ApprovalDoc) -> bool:
        """Ask for a decision once; False if it was asked already."""
        try:
            self._approval_ref(approval.run_id, approval.step).create(approval.model_dump())
        except gexc.AlreadyExists:
            return False
        return True

    def get_approval(self, run_id: str, step: str) -> ApprovalDoc | None:
        """One approval, or None."""
        snap = self._approval_ref(run_id, step).get()
        return ApprovalDoc.model_validate(snap.to_dict()) if snap.exists else None

    def decide_approval(
        self,
        run_id: str,
        step: str,
        status: ApprovalStatus,
        by: str,
        at: datetime,
        comment: str,
        edits: dict[str, Any],
    ) -> tuple[ApprovalDoc, bool]:
        """Decide a pending approval in a transaction; past its expiry it becomes expired."""
        ref = self._approval_ref(run_id, step)

        @firestore.transactional
        def decide(transaction: firestore.Transaction) -> tuple[ApprovalDoc, bool]:
            snap = ref.get(transaction=transaction)
            if not snap.exists:
                raise NotFoundError(f"run {run_id} has no approval step {step!r}")
            approval = ApprovalDoc.model_validate(snap.to_dict())
            if approval.status is not ApprovalStatus.PENDING:
                return approval, False
            expired = at >= approval.expires_at and status is not ApprovalStatus.EXPIRED
            final = ApprovalStatus.EXPIRED if expired else status
            updates = {
                "status": final.value,
                "decided_by": None if expired else by,
                "decided_at": at,
                "comment": "" if expired else comment,
                "edits": {} if expired else firestore_safe(edits),
            }
            transaction.update(ref, updates)
            decided = ApprovalDoc.model_validate({**(snap.to_dict() or {}), **updates})
            return decided, not expired

        result: tuple[ApprovalDoc, bool] = decide(self.client.transaction())
        return result

    def list_approvals(self, status: ApprovalStatus, limit: int = 50) -> list[ApprovalDoc]:
        """Approvals with this status, oldest request first (collection-group index
        approvals(status ASC, requested_at ASC))."""
        query = (
            self.client.collection_group("approvals")
            .where(filter=FieldFilter("status", "==", status.value))
            .order_by("requested_at")
            .limit(limit)
        )
        return [ApprovalDoc.model_validate(s.to_dict()) for s in query.stream()]

    def list_expired_approvals(self, now: datetime, limit: int = 100) -> list[ApprovalDoc]:
        """Pending approvals past their expiry (collection-group index
        approvals(status ASC, expires_at ASC))."""
        query = (
            self.client.collection_group("approvals")
            .where(filter=FieldFilter("status", "==", ApprovalStatus.PENDING.value))
            .where(filter=FieldFilter("expires_at", "<", now))
            .order_by("expires_at")
            .limit(limit)
        )
        return [ApprovalDoc.model_validate(s.to_dict()) for s in query.stream()]

    def claim_task(
        self, run_id: str, task_id: str, owner: str, lease_s: int, now: datetime
    ) -> TaskClaim:
        """Start an attempt unless the task is terminal or leased by another owner."""

        def claim(task: TaskDoc) -> tuple[dict[str, Any] | None, TaskClaim]:
            if task.status.terminal:
                return None, TaskClaim(task, "terminal")
            leased_by_other = (
                task.status is TaskStatus.RUNNING
                and task.lease_owner != owner
                and task.lease_until is not None
                and task.lease_until > now
            )
            if leased_by_other:
                return None, TaskClaim(task, "busy")
            claimed = task.model_copy(
                update={
                    "status": TaskStatus.RUNNING,
                    "attempts": task.attempts + 1,
                    "lease_owner": owner,
                    "lease_until": now + timedelta(seconds=lease_s),
                    "started_at": task.started_at or now,
                }
            )
            changes = {
                "status": claimed.status.value,
                "attempts": claimed.attempts,
                "lease_owner": owner,
                "lease_until": claimed.lease_until,
                "started_at": claimed.started_at,
            }
            return changes, TaskClaim(claimed, "claimed")

        return self._change_task(run_id, task_id, claim)

    def finish_task(
        self,
        run_id: str,
        task_id: str,
        status: TaskStatus,
        now: datetime,
        output: dict[str, Any] | None = None,
        error: str | None = None,
        usage: LlmUsage | None = None,
    ) -> bool:
        """Make a task terminal; False (and no change) if it already was."""

        def finish(task: TaskDoc) -> tuple[dict[str, Any] | None, bool]:
            if task.status.terminal:
                return None, False
            started = task.started_at or now
            changes = {
                "status": status.value,
                "output": firestore_safe(output),
                "error": error,
                "usage": (usage or LlmUsage()).model_dump(),
                "finished_at": now,
                "duration_s": round((now - started).total_seconds(), 3),
                "lease_owner": None,
                "lease_until": None,
            }
            return changes, True

        return self._change_task(run_id, task_id, finish)

    def _change_task(
        self,
        run_id: str,
        task_id: str,
        decide: Callable[[TaskDoc], tuple[dict[str, Any] | None, T]],
    ) -> T:
        """Read the task, decide, and write only if nobody wrote it in between (compare and
        set on its update time; re-read on a conflict). No transaction: a process killed
        between the read and the write holds no lock that would block the task's next
        delivery (the emulator keeps a dead transaction's locks for a minute or more)."""
        ref = self._task_ref(run_id, task_id)
        for _ in range(TASK_WRITE_TRIES):
            snap = ref.get()
            if not snap.exists:
                # Runs are written before their tasks are published, so this never heals.
                raise InvalidMessageError(f"task {run_id}/{task_id} does not exist")
            changes, answer = decide(TaskDoc.model_validate(snap.to_dict()))
            if changes is None:
                return answer
            try:
                ref.update(
                    changes, option=self.client.write_option(last_update_time=snap.update_time)
                )
            except gexc.FailedPrecondition:
                continue  # another delivery wrote first: decide again on what it wrote
            return answer
        raise RetryableError(
            f"task {run_id}/{task_id} kept changing under {TASK_WRITE_TRIES} tries"
        )

    def release_task(self, run_id: str, task_id: str, owner: str, error: str) -> None:
        """Record a failed attempt's error and drop its lease so a redelivery may retry."""
        ref = self._task_ref(run_id, task_id)
        snap = ref.get()
        if snap.exists and snap.get("lease_owner") == owner and snap.get("status") == "running":
            ref.update(
                {"lease_until": None, "last_error": error[:2000]},
                option=self.client.write_option(last_update_time=snap.update_time),
            )

    def _event_ref(self, event: RunEvent) -> firestore.DocumentReference:
        return self._run_ref(event.run_id).collection("events").document(event.event_id)

    def append_event(self, event: RunEvent) -> bool:
        """Add a timeline entry; False if an entry with its id exists already."""
        try:
            self._event_ref(event).create(event.model_dump())
        except gexc.AlreadyExists:
            return False
        return True

    def list_events(self, run_id: str) -> list[RunEvent]:
        """The run's timeline, oldest first."""
        docs = self._run_ref(run_id).collection("events").order_by("at").stream()
        return [RunEvent.model_validate(s.to_dict()) for s in docs]

    def count_terminal_tasks(self, run_id: str, step: str | None = None) -> int:
        """How many of the run's (or step's) tasks are terminal: one aggregation query (with a
        step, the composite index tasks(step ASC, status ASC) in the cloud)."""
        query = self._run_ref(run_id).collection("tasks")
        if step is not None:
            query = query.where(filter=FieldFilter("step", "==", step))
        query = query.where(filter=FieldFilter("status", "in", TERMINAL_TASK_STATUSES))
        result = query.count().get()
        return int(result[0][0].value)

    def claim_marker(self, run_id: str, name: str, owner: str, create: bool = True) -> bool:
        """Create runs/{run}/markers/{name}; the owner named in it is the only one that goes on.

        The same owner (a redelivery of the same message, after a crash) may claim again.
        """
        marker = self._run_ref(run_id).collection("markers").document(name)
        if create:
            try:
                marker.create({"owner": owner, "created_at": firestore.SERVER_TIMESTAMP})
            except gexc.AlreadyExists:
                pass
            else:
                return True
        snap = marker.get()
        return bool(snap.exists and snap.get("owner") == owner)

    def finish_run(self, run: RunDoc) -> None:
        """Write the run's final status, summary and totals."""
        self._run_ref(run.run_id).set(run.model_dump())

    def save_artifact(self, run_id: str, artifact: Artifact) -> None:
        """Store an artifact produced by a run (overwrites the same name)."""
        ref = self._run_ref(run_id).collection("artifacts").document(artifact.name)
        ref.set(artifact.model_dump())

    def get_artifact(self, run_id: str, name: str) -> Artifact | None:
        """One artifact, or None."""
        snap = self._run_ref(run_id).collection("artifacts").document(name).get()
        return Artifact.model_validate(snap.to_dict()) if snap.exists else None

    def list_artifacts(self, run_id: str) -> list[Artifact]:
        """Every artifact of a run, by name (document id order)."""
        docs = self._run_ref(run_id).collection("artifacts").stream()
        return [Artifact.model_validate(s.to_dict()) for s in docs]

    def agent_override(self, agent: str) -> dict[str, Any] | None:
        """agent_settings/{agent}: run-time overrides of the agent's prompts and policy."""
        snap = self.client.collection("agent_settings").document(agent).get()
        return snap.to_dict() if snap.exists else None

    def record_stripe_event(self, event: StripeEvent, now: datetime) -> bool:
        """stripe_events/{id}: stored once; True until it is marked published."""
        ref = self.client.collection("stripe_events").document(event.id)
        try:
            ref.create({**event.model_dump(), "received_at": now, "published": False})
        except gexc.AlreadyExists:
            return not ref.get().get("published")
        return True

    def mark_stripe_event_published(self, event_id: str) -> None:
        """stripe_events/{id}.published = True."""
        self.client.collection("stripe_events").document(event_id).update({"published": True})

    def reserve_idempotency_key(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store the record; if the key was used already return that earlier record."""
        ref = self.client.collection("idempotency").document(record.key)
        try:
            ref.create(record.model_dump())
        except gexc.AlreadyExists:
            snap = ref.get()
            return IdempotencyRecord.model_validate(snap.to_dict())
        return None
