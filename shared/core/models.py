"""Versioned pydantic models for every Pub/Sub message and Firestore document.

Messages travel as JSON in the Pub/Sub data field, with `kind` and `schema_version` also in
the attributes so a consumer can route before parsing. Documents are stored with
`model_dump(mode="python")`; Firestore keeps datetimes as timestamps.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict


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


class ApprovalStatus(StrEnum):
    """Where a person's decision stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
