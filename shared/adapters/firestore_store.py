"""The Store port on Firestore (the emulator locally, native mode in the cloud).

Layout: runs/{run}, runs/{run}/tasks/{task}, runs/{run}/events/{event},
runs/{run}/artifacts/{name}, runs/{run}/markers/finish, idempotency/{key}.
Fan-in never funnels through one hot document: each completion writes only its own task
document and counts terminal tasks with an aggregation query; whoever sees the full count
tries to create runs/{run}/markers/finish, and the one whose create succeeds finishes the run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.firestore_base import FirestoreAdapter
from shared.errors import InvalidMessageError
from shared.models import (
    TERMINAL_TASK_STATUSES,
    Artifact,
    EffectRecord,
    IdempotencyRecord,
    LlmUsage,
    RunDoc,
    RunEvent,
    TaskDoc,
    TaskStatus,
)
from shared.ports import TaskClaim
from shared.support.inbound import StripeEvent


def firestore_safe(value: Any, inside_list: bool = False) -> Any:
    """The value with every array directly inside an array wrapped as {"items": [...]}.

    Firestore cannot store an array in an array (e.g. a report's list of channel pairs); the
    wrapper keeps the data readable instead of dropping or flattening it.
    """
    if isinstance(value, dict):
        return {k: firestore_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [firestore_safe(v, inside_list=True) for v in value]
        return {"items": items} if inside_list else items
    return value


class FirestoreStore(FirestoreAdapter):
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

    def list_tasks(self, run_id: str) -> list[TaskDoc]:
        """Every task of a run, by id."""
        docs = self._run_ref(run_id).collection("tasks").order_by("task_id").stream()
        return [TaskDoc.model_validate(s.to_dict()) for s in docs]

    def claim_task(
        self, run_id: str, task_id: str, owner: str, lease_s: int, now: datetime
    ) -> TaskClaim:
        """Start an attempt unless the task is terminal or leased by another owner."""
        ref = self._task_ref(run_id, task_id)

        @firestore.transactional
        def claim(transaction: firestore.Transaction) -> TaskClaim:
            snap = ref.get(transaction=transaction)
            if not snap.exists:
                # Runs are written before their tasks are published, so this never heals.
                raise InvalidMessageError(f"task {run_id}/{task_id} does not exist")
            task = TaskDoc.model_validate(snap.to_dict())
            if task.status.terminal:
                return TaskClaim(task, "terminal")
            leased_by_other = (
                task.status is TaskStatus.RUNNING
                and task.lease_owner != owner
                and task.lease_until is not None
                and task.lease_until > now
            )
            if leased_by_other:
                return TaskClaim(task, "busy")
            claimed = task.model_copy(
                update={
                    "status": TaskStatus.RUNNING,
                    "attempts": task.attempts + 1,
                    "lease_owner": owner,
                    "lease_until": now + timedelta(seconds=lease_s),
                    "started_at": task.started_at or now,
                }
            )
            transaction.update(
                ref,
                {
                    "status": claimed.status.value,
                    "attempts": claimed.attempts,
                    "lease_owner": owner,
                    "lease_until": claimed.lease_until,
                    "started_at": claimed.started_at,
                },
            )
            return TaskClaim(claimed, "claimed")

        result: TaskClaim = claim(self.client.transaction())
        return result

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
        ref = self._task_ref(run_id, task_id)

        @firestore.transactional
        def finish(transaction: firestore.Transaction) -> bool:
            snap = ref.get(transaction=transaction)
            if not snap.exists:
                raise InvalidMessageError(f"task {run_id}/{task_id} does not exist")
            task = TaskDoc.model_validate(snap.to_dict())
            if task.status.terminal:
                return False
            started = task.started_at or now
            transaction.update(
                ref,
                {
                    "status": status.value,
                    "output": firestore_safe(output),
                    "error": error,
                    "usage": (usage or LlmUsage()).model_dump(),
                    "finished_at": now,
                    "duration_s": round((now - started).total_seconds(), 3),
                    "lease_owner": None,
                    "lease_until": None,
                },
            )
            return True

        changed: bool = finish(self.client.transaction())
        return changed

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

    def count_terminal_tasks(self, run_id: str) -> int:
        """How many of the run's tasks are succeeded or failed (one aggregation query)."""
        query = (
            self._run_ref(run_id)
            .collection("tasks")
            .where(filter=FieldFilter("status", "in", TERMINAL_TASK_STATUSES))
            .count()
        )
        result = query.get()
        return int(result[0][0].value)

    def claim_run_finish(self, run_id: str, owner: str) -> bool:
        """Create the run's finish marker; the owner named in it is the only one that finishes.

        The same owner (a redelivery of the same message, after a crash) may claim again.
        """
        marker = self._run_ref(run_id).collection("markers").document("finish")
        try:
            marker.create({"owner": owner, "created_at": firestore.SERVER_TIMESTAMP})
        except gexc.AlreadyExists:
            snap = marker.get()
            return bool(snap.exists and snap.get("owner") == owner)
        return True

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

    def agent_override(self, agent: str) -> dict[str, Any] | None:
        """agent_settings/{agent}: run-time overrides of the agent's prompts and policy."""
        snap = self.client.collection("agent_settings").document(agent).get()
        return snap.to_dict() if snap.exists else None

    def record_stripe_event(self, event: StripeEvent, now: datetime) -> bool:
        """stripe_events/{id}: stored once; False when it was stored before."""
        ref = self.client.collection("stripe_events").document(event.id)
        try:
            ref.create({**event.model_dump(), "received_at": now})
        except gexc.AlreadyExists:
            return False
        return True

    def begin_effect(self, run_id: str, step: str, now: datetime) -> EffectRecord:
        """runs/{run}/effects/{step}: created as an intent once; a retry counts an attempt."""
        ref = self._run_ref(run_id).collection("effects").document(step)
        record = EffectRecord(step=step, started_at=now)
        try:
            ref.create(record.model_dump())
        except gexc.AlreadyExists:
            existing = EffectRecord.model_validate(ref.get().to_dict())
            if existing.status == "done":
                return existing
            ref.update({"attempts": firestore.Increment(1)})
            return existing.model_copy(update={"attempts": existing.attempts + 1})
        return record

    def complete_effect(self, run_id: str, step: str, now: datetime) -> None:
        """Mark a side effect done."""
        ref = self._run_ref(run_id).collection("effects").document(step)
        ref.update({"status": "done", "done_at": now})

    def reserve_idempotency_key(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store the record; if the key was used already return that earlier record."""
        ref = self.client.collection("idempotency").document(record.key)
        try:
            ref.create(record.model_dump())
        except gexc.AlreadyExists:
            snap = ref.get()
            return IdempotencyRecord.model_validate(snap.to_dict())
        return None
