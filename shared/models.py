"""Versioned pydantic models for every Pub/Sub message and Firestore document.

Messages travel as JSON in the Pub/Sub data field, with `kind` and `schema_version` also in
the attributes so a consumer can route before parsing. Documents are stored with
`model_dump(mode="python")`; Firestore keeps datetimes as timestamps.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def stable_id(*parts: str, length: int = 20) -> str:
    """A deterministic id from its parts, so a redelivery produces the same id."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


class RunStatus(StrEnum):
    """Lifecycle of a workflow run."""

    RUNNING = "running"
    WAITING = "waiting"  # for a person's decision
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # a retry from the failed step may resume it
    CANCELLED = "cancelled"  # by a person, a rejection or an expired approval

    @property
    def terminal(self) -> bool:
        """Whether the run is over (only a retry brings a failed run back)."""
        return self not in (RunStatus.RUNNING, RunStatus.WAITING)


class TaskStatus(StrEnum):
    """Lifecycle of one agent task."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """Whether the task can change no more."""
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


TERMINAL_TASK_STATUSES = [TaskStatus.SUCCEEDED.value, TaskStatus.FAILED.value]


# --- messages -------------------------------------------------------------------------


class Message(BaseModel):
    """Base of every Pub/Sub payload: strict, versioned, routed by `kind`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str]
    schema_version: Literal[1] = 1

    def attributes(self) -> dict[str, str]:
        """Pub/Sub attributes that let a consumer route and log before parsing."""
        return {"kind": self.kind, "schema_version": str(self.schema_version)}


class RunRequest(Message):
    """Ask the supervisor to start one run of a workflow."""

    kind: ClassVar[str] = "run_request"
    workflow: str = Field(min_length=1, max_length=64)
    trigger: Literal["schedule", "api", "webhook", "manual", "segment"] = "api"
    params: dict[str, Any] = Field(default_factory=dict)
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{6,64}$")
    requested_by: str | None = None

    def attributes(self) -> dict[str, str]:
        """Attributes, with the run id when the requester chose it."""
        attrs = super().attributes()
        if self.run_id:
            attrs["run_id"] = self.run_id
        return attrs


class AgentTask(Message):
    """One unit of work for one agent within a run."""

    kind: ClassVar[str] = "agent_task"
    run_id: str
    task_id: str
    agent: str
    workflow: str
    step: str = "analyse"
    params: dict[str, Any] = Field(default_factory=dict)

    def attributes(self) -> dict[str, str]:
        """Attributes carrying the ids, so a dead-lettered copy still names its run."""
        return {**super().attributes(), "run_id": self.run_id, "task_id": self.task_id}


class TaskResult(Message):
    """An agent reports that its task reached a terminal status."""

    kind: ClassVar[str] = "task_result"
    run_id: str
    task_id: str
    agent: str
    status: Literal["succeeded", "failed"]
    error: str | None = None

    def attributes(self) -> dict[str, str]:
        """Attributes carrying the ids."""
        return {**super().attributes(), "run_id": self.run_id, "task_id": self.task_id}


class RunCommand(Message):
    """A person acts on a run: resume it after an approval decision, retry it, cancel it."""

    kind: ClassVar[str] = "run_command"
    run_id: str
    command: Literal["resume", "retry", "cancel"]
    by: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)
    # The run's attempt the person saw; a stale command (e.g. a double click) does nothing.
    attempt: int = Field(default=1, ge=1)

    def attributes(self) -> dict[str, str]:
        """Attributes carrying the run id."""
        return {**super().attributes(), "run_id": self.run_id}


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.kind: cls for cls in (RunRequest, AgentTask, TaskResult, RunCommand)
}


# --- documents ------------------------------------------------------------------------


class Document(BaseModel):
    """Base of every Firestore document shape."""

    model_config = ConfigDict(extra="ignore")
    schema_version: int = 1


class LlmUsage(BaseModel):
    """Tokens and cost of the LLM calls made for one task (or summed for a run)."""

    provider: str = "offline"
    model: str = "offline-template"
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    @classmethod
    def total(cls, usages: list[LlmUsage]) -> LlmUsage:
        """The sum of several usages; an empty list sums to zero."""
        if not usages:
            return cls()
        result = usages[0]
        for usage in usages[1:]:
            result = result.plus(usage)
        return result

    def plus(self, other: LlmUsage) -> LlmUsage:
        """The sum of two usages (provider/model kept when equal, else 'mixed')."""
        return LlmUsage(
            provider=self.provider if self.provider == other.provider else "mixed",
            model=self.model if self.model == other.model else "mixed",
            tokens_in=self.tokens_in + other.tokens_in,
            tokens_out=self.tokens_out + other.tokens_out,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
            calls=self.calls + other.calls,
        )


class RunDoc(Document):
    """runs/{run_id}: one workflow run."""

    run_id: str
    workflow: str
    trigger: str
    params: dict[str, Any] = Field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    # The workflow step in progress, and how many tasks it has.
    step: str = "analyse"
    task_count: int
    # 1, plus one per retry from the failed step; markers and commands name it.
    attempt: int = 1
    failed_step: str | None = None
    created_at: datetime
    deadline_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    summary: str | None = None
    failure_reasons: list[str] = Field(default_factory=list)
    usage: LlmUsage = Field(default_factory=LlmUsage)
    requested_by: str | None = None


class TaskDoc(Document):
    """runs/{run_id}/tasks/{task_id}: one agent's task."""

    run_id: str
    task_id: str
    agent: str
    step: str = "analyse"
    status: TaskStatus = TaskStatus.PENDING
    attempts: int = 0
    input: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] | None = None
    error: str | None = None
    last_error: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    usage: LlmUsage = Field(default_factory=LlmUsage)


class RunEvent(Document):
    """runs/{run_id}/events/{event_id}: one entry of the run's timeline."""

    event_id: str
    run_id: str
    type: str
    at: datetime
    message: str
    task_id: str | None = None
    agent: str | None = None
    attempt: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Artifact(Document):
    """runs/{run_id}/artifacts/{name}: a produced document, e.g. the weekly report."""

    name: str
    content_type: str
    content: str
    created_at: datetime
    # Where the artifact store keeps it (gs://, s3:// or file://), once published there.
    uri: str | None = None
    size: int | None = None
    sha256: str | None = None


class EffectRecord(Document):
    """runs/{run_id}/effects/{step}: a side effect on an outside system, intended then done
    (shared.effects)."""

    step: str
    status: Literal["intent", "done"] = "intent"
    intent: dict[str, Any] | None = None  # what the first attempt decided to do
    attempts: int = 1
    started_at: datetime
    done_at: datetime | None = None
    result: dict[str, Any] | None = None  # what the outside system answered, e.g. a message id


class ApprovalStatus(StrEnum):
    """Where a person's decision stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class ApprovalDoc(Document):
    """runs/{run_id}/approvals/{step}: a decision a person must make before the run goes on.

    `proposal` says what will happen if approved (for a win-back: the customers, the drafts
    and the ROI estimate); `edits` are the changes the approver made before approving.
    """

    run_id: str
    step: str
    workflow: str
    title: str
    status: ApprovalStatus = ApprovalStatus.PENDING
    proposal: dict[str, Any] = Field(default_factory=dict)
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""
    edits: dict[str, Any] = Field(default_factory=dict)


class IdempotencyRecord(Document):
    """idempotency/{key}: which run a client's idempotency key started."""

    key: str
    run_id: str
    workflow: str
    created_at: datetime
