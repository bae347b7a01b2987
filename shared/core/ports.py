"""Protocols the core depends on; adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.core.dataset import Dataset
from shared.core.documents import (
    ApprovalDoc,
    Artifact,
    ConversationDoc,
    IdempotencyRecord,
    InboundRecord,
    KbDraftDoc,
    MessageDoc,
    Resolution,
    RunDoc,
    RunEvent,
    TaskDoc,
    TicketDoc,
)
from shared.core.effects import EffectLedger
from shared.core.messages import AgentTask, InboundMessage, StripeEvent
from shared.core.models import ApprovalStatus, LlmUsage, Message, RunStatus, TaskStatus

Clock = Callable[[], datetime]
"""What every use case reads the time from (`utcnow` in a function, a fixed clock in tests)."""


@dataclass(frozen=True)
class TaskClaim:
    """What claiming a task found: a fresh attempt, a finished task, or a busy one."""

    task: TaskDoc
    outcome: str  # "claimed" | "terminal" | "busy"


class Store(EffectLedger, Protocol):
    """Durable state of runs, tasks, timelines and idempotency records."""

    def create_run(self, run: RunDoc, tasks: list[TaskDoc], events: list[RunEvent]) -> bool:
        """Write a run with its tasks and first events atomically; False if it exists."""
        ...

    def list_running_runs(self, limit: int = 200) -> list[RunDoc]:
        """Runs still running, newest first."""
        ...

    def list_overdue_runs(self, now: datetime, limit: int = 100) -> list[RunDoc]:
        """Running runs whose deadline has passed, oldest deadline first."""
        ...

    def get_run(self, run_id: str) -> RunDoc | None:
        """The run, or None."""
        ...

    def list_runs(self, limit: int = 50) -> list[RunDoc]:
        """Newest runs first."""
        ...

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
        starting after the (created_at, run_id) of the previous page's last run."""
        ...

    def get_task(self, run_id: str, task_id: str) -> TaskDoc | None:
        """One task, or None."""
        ...

    def list_tasks(self, run_id: str, step: str | None = None) -> list[TaskDoc]:
        """Every task of a run (or of one of its steps), by task id."""
        ...

    def add_tasks(self, run_id: str, tasks: list[TaskDoc]) -> None:
        """Create the tasks; any that exists already is left as it is."""
        ...

    def reset_failed_tasks(self, run_id: str, step: str) -> list[TaskDoc]:
        """Make the step's failed tasks pending again (their error kept as last_error)."""
        ...

    def update_run(self, run_id: str, updates: dict[str, Any]) -> RunDoc:
        """Change some fields of the run; returns it as it now stands."""
        ...

    def transition_run(
        self, run_id: str, from_statuses: Sequence[RunStatus], updates: dict[str, Any]
    ) -> RunDoc | None:
        """Apply the updates only if the run is in one of `from_statuses` (atomically)."""
        ...

    def create_approval(self, approval: ApprovalDoc) -> bool:
        """Ask for a decision once; False if it was asked already."""
        ...

    def get_approval(self, run_id: str, step: str) -> ApprovalDoc | None:
        """One approval, or None."""
        ...

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
        """Record the decision if the approval is pending and not past its expiry (then it
        becomes expired); returns the approval as it stands and whether this call decided."""
        ...

    def list_approvals(self, status: ApprovalStatus, limit: int = 50) -> list[ApprovalDoc]:
        """Approvals with this status, the oldest request first."""
        ...

    def list_expired_approvals(self, now: datetime, limit: int = 100) -> list[ApprovalDoc]:
        """Pending approvals whose expiry has passed."""
        ...

    def claim_task(
        self, run_id: str, task_id: str, owner: str, lease_s: int, now: datetime
    ) -> TaskClaim:
        """Start an attempt unless the task is terminal or leased by another owner."""
        ...

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
        ...

    def release_task(self, run_id: str, task_id: str, owner: str, error: str) -> None:
        """Record a failed attempt's error and drop its lease so a redelivery may retry."""
        ...

    def append_event(self, event: RunEvent) -> bool:
        """Add a timeline entry; False if an entry with its id exists already."""
        ...

    def list_events(self, run_id: str) -> list[RunEvent]:
        """The run's timeline, oldest first."""
        ...

    def count_terminal_tasks(self, run_id: str, step: str | None = None) -> int:
        """How many of the run's (or the step's) tasks are succeeded or failed."""
        ...

    def claim_marker(self, run_id: str, name: str, owner: str, create: bool = True) -> bool:
        """True for exactly one owner (and again for that owner): the one that moves the run
        past the point `name` names. With create=False, only checks the owner."""
        ...

    def finish_run(self, run: RunDoc) -> None:
        """Write the run's final status, summary and totals."""
        ...

    def save_artifact(self, run_id: str, artifact: Artifact) -> None:
        """Store an artifact produced by a run (overwrites the same name)."""
        ...

    def get_artifact(self, run_id: str, name: str) -> Artifact | None:
        """One artifact, or None."""
        ...

    def list_artifacts(self, run_id: str) -> list[Artifact]:
        """Every artifact of a run, by name."""
        ...

    def record_stripe_event(self, event: StripeEvent, now: datetime) -> bool:
        """Store a Stripe event once; True while it still has to be published.

        False only once `mark_stripe_event_published` has run for it: an event stored
        whose publish then failed is published again when Stripe redelivers it.
        """
        ...

    def mark_stripe_event_published(self, event_id: str) -> None:
        """Note that a stored Stripe event reached the bus."""
        ...

    def reserve_idempotency_key(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store the record; if the key was used already return that earlier record."""
        ...


class Bus(Protocol):
    """Publishes messages to topics."""

    def publish(self, topic: str, message: Message, **attributes: str) -> str:
        """Publish a message; returns the message id once the broker has it."""
        ...

    def publish_many(self, topic: str, messages: Sequence[Message]) -> list[str]:
        """Publish several messages at once; returns their ids once the broker has them all."""
        ...

    def publish_raw(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        """Publish bytes as they are (used to dead-letter what failed to parse)."""
        ...


class DataSource(Protocol):
    """Where an agent reads the business's data from."""

    def load(self) -> Dataset:
        """The data set to analyse."""
        ...


class ConversationStore(EffectLedger, Protocol):
    """Support conversations: inbound idempotency, threads, replies, tickets."""

    def record_inbound(self, message: InboundMessage, now: datetime) -> InboundRecord:
        """Store the message in its conversation once; returns its (possibly earlier) record."""
        ...

    def mark_inbound_published(self, record_id: str) -> None:
        """Note that the message was handed to the support agent."""
        ...

    def get_conversation(self, key: str) -> ConversationDoc | None:
        """One conversation, or None."""
        ...

    def list_messages(self, key: str) -> list[MessageDoc]:
        """A conversation's messages, oldest first."""
        ...

    def complete_reply(self, run_id: str, reply: MessageDoc, key: str, now: datetime) -> None:
        """In one batch: the reply effect done, the reply in the thread, the thread answered."""
        ...

    def escalate(self, run_id: str, ticket: TicketDoc, now: datetime) -> None:
        """In one batch: the ticket effect done, the ticket, the conversation escalated."""
        ...

    def notify(self, notification_id: str, text: str, now: datetime) -> bool:
        """Record a notification for people once (the local stand-in for Slack)."""
        ...

    def mark_sales_lead(self, key: str, now: datetime) -> bool:
        """Mark the conversation a sales lead (the first time only); True when it is new."""
        ...

    def list_conversations(self, statuses: Sequence[str], limit: int) -> list[ConversationDoc]:
        """Conversations in one of `statuses`, the latest customer message first."""
        ...

    def get_ticket(self, ticket_id: str) -> TicketDoc | None:
        """One ticket, or None."""
        ...

    def get_resolution(self, ticket_id: str) -> Resolution | None:
        """Who resolved the ticket and when, or None while it is open."""
        ...

    def complete_resolution(
        self,
        run_id: str,
        reply: MessageDoc,
        resolution: Resolution,
        draft: KbDraftDoc,
        key: str,
        now: datetime,
    ) -> None:
        """In one batch: the resolve effect done, the person's reply, ticket solved,
        conversation resolved, KB draft created."""
        ...

    def get_kb_draft(self, draft_id: str) -> KbDraftDoc | None:
        """One knowledge-base draft, or None."""
        ...

    def list_kb_drafts(self, limit: int) -> list[KbDraftDoc]:
        """Knowledge-base drafts, newest first, approved or not."""
        ...

    def mark_kb_draft_approved(
        self, draft_id: str, approved_by: str, article_id: str, now: datetime
    ) -> bool:
        """Mark the draft approved unless it is already; False (and no change) if it was."""
        ...

    def messages_since(self, start: datetime, end: datetime) -> list[tuple[str, MessageDoc]]:
        """Every conversation message with start <= at < end, with its conversation's key."""
        ...

    def escalated_message_ids(self, since: datetime) -> set[str]:
        """The ids of the messages tickets were opened for at or after `since`."""
        ...


@dataclass(frozen=True)
class AgentOutcome:
    """What an agent produced for a task: its output document and the LLM usage."""

    output: dict[str, Any]
    usage: LlmUsage


StepRecorder = Callable[[str, str], None]


AgentRunner = Callable[[AgentTask, StepRecorder], AgentOutcome]
