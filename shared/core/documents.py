"""Every Firestore document model, with the path it is stored at.

Documents are stored with `model_dump(mode="python")`; Firestore keeps datetimes as
timestamps. The feature slices' own documents (profiles and segment memberships in
`shared.tracking`, ad plans in `shared.ads`, leads in `shared.leads`, articles and chunks in
`shared.kb`) are declared in their slice's models module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.core.models import ApprovalStatus, Document, LlmUsage, RunStatus, TaskStatus

ConversationStatus = Literal["open", "answered", "escalated", "resolved"]
SettingsKind = Literal["prompts", "policy"]


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
    (shared.core.effects)."""

    step: str
    status: Literal["intent", "done"] = "intent"
    intent: dict[str, Any] | None = None  # what the first attempt decided to do
    attempts: int = 1
    started_at: datetime
    done_at: datetime | None = None
    result: dict[str, Any] | None = None  # what the outside system answered, e.g. a message id


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


class InboundRecord(Document):
    """inbound/{id}: a webhook message seen once; `published` once handed to the agent."""

    record_id: str
    conversation_key: str
    received_at: datetime
    published: bool = False


class ConversationDoc(Document):
    """conversations/{key}."""

    key: str
    platform: str
    platform_user_id: str
    user_name: str | None = None
    status: ConversationStatus = "open"
    escalation_reason: str | None = None
    ticket_id: str | None = None
    last_message_at: datetime
    updated_at: datetime
    # When a message of the conversation was first classified as sales: a lead for the team.
    sales_lead_at: datetime | None = None


class MessageDoc(Document):
    """conversations/{key}/messages/{id}."""

    message_id: str
    role: Literal["customer", "agent", "human"]
    text: str
    at: datetime
    in_reply_to: str | None = None
    citations: list[str] = Field(default_factory=list)
    offline: bool = False
    intent: str | None = None
    confidence: float | None = None


class TicketDoc(Document):
    """tickets/{id}: an escalated conversation waiting for a person."""

    model_config = ConfigDict(extra="ignore")
    ticket_id: str
    conversation_key: str
    message_id: str
    reason: str
    status: Literal["open", "solved"] = "open"
    created_at: datetime
    draft_answer: str | None = None
    sources: list[str] = Field(default_factory=list)


class Resolution(BaseModel):
    """tickets/{id}.resolution: who answered an escalated conversation, and when."""

    model_config = ConfigDict(extra="ignore")
    ticket_id: str
    message_id: str
    resolved_by: str
    resolved_at: datetime


class KbDraftDoc(Document):
    """kb_drafts/{id}: a person's answer waiting for approval before it enters the KB."""

    draft_id: str
    question: str
    answer: str
    status: Literal["draft", "approved"] = "draft"
    conversation_key: str
    ticket_id: str
    sources: list[str] = Field(default_factory=list)
    created_by: str
    created_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    article_id: str | None = None


class AuditEntry(Document):
    """audit/{audit_id}: one action and who took it."""

    audit_id: str
    who: str
    via: str
    action: str
    target: str
    outcome: str = "done"
    at: datetime
    details: dict[str, Any] = Field(default_factory=dict)


class SettingsVersion(Document):
    """agent_settings/{agent}/versions/{kind}-v{version}: one saved version, never changed."""

    agent: str
    kind: SettingsKind
    version: int
    content: dict[str, Any]
    created_by: str
    created_at: datetime
    comment: str | None = None
    based_on: str = Field(description="what the editor saw, e.g. 'finance/v2 (bundled)'")

    @property
    def version_id(self) -> str:
        """The document id."""
        return f"{self.kind}-v{self.version}"
