"""Every Pub/Sub message kind: its schema, its `kind` name and the topic it travels on.

Messages travel as JSON in the Pub/Sub data field, with `kind` and `schema_version` also in
the attributes so a consumer can route before parsing (`shared.core.envelope`). `MESSAGES`
below is the complete registry: the envelope decoder and the topology drift test use it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from shared.core.models import Message, stable_id
from shared.core.topology import (
    BILLING_EVENTS_TOPIC,
    EVENTS_TOPIC,
    RUN_REQUESTS_TOPIC,
    SEGMENT_CHANGES_TOPIC,
    SUPPORT_MESSAGES_TOPIC,
    TASK_RESULTS_TOPIC,
    agent_topic,
)


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


MAX_TEXT_CHARS = 4000


MAX_ID_CHARS = 256


Platform = Literal["tiktok", "linkedin", "zendesk", "generic"]


def _int_to_str(value: object) -> object:
    # Vendors send numeric ids as JSON numbers in one place and strings in another.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _addressable(value: str) -> str:
    # Ids become parts of Firestore document ids (platform:id) and of status page paths, where
    # "/" separates segments: an id with one could be neither stored nor addressed. A control
    # character (a NUL, a newline, DEL, C1) would be stored inside the id, unreadable in a page
    # or a log line and different from the id a person types: refused, never stripped, so
    # two ids never fold into one. Message text keeps whatever the customer wrote.
    if "/" in value:
        raise ValueError("must not contain '/'")
    control = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        raise ValueError(f"must not contain control characters (found U+{ord(control):04X})")
    return value


Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_CHARS),
    BeforeValidator(_int_to_str),
    AfterValidator(_addressable),
]


Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_ID_CHARS)]


# A sanity check, not RFC 5322: the project ships no email-validator dependency.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]


LanguageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]


class InboundUser(BaseModel):
    """Who wrote a message, as the platform identifies them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    platform_user_id: Id
    display_name: Name | None = None
    email: Email | None = None


class InboundMessage(BaseModel):
    """One customer message from any platform, in the shape the support agents read."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: Literal[1] = 1
    platform: Platform
    platform_message_id: Id
    conversation_key: str = Field(min_length=1, max_length=len("linkedin:") + MAX_ID_CHARS)
    user: InboundUser
    text: Text
    language: LanguageTag | None = None
    sent_at: AwareDatetime | None = None
    raw_event_type: Id

    @model_validator(mode="after")
    def _conversation_key_names_the_platform(self) -> InboundMessage:
        if not self.conversation_key.startswith(f"{self.platform}:"):
            raise ValueError(f"conversation_key must start with '{self.platform}:'")
        return self


def conversation_key(platform: Platform, thread_id: str) -> str:
    """The key of a conversation: the platform and its own thread or conversation id."""
    return f"{platform}:{thread_id}"


class StripeEvent(BaseModel):
    """The parts of a Stripe event the billing and churn logic needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Id
    type: Id
    created: AwareDatetime
    customer_id: Id | None
    object_id: Id | None
    is_churn_signal: bool


class SupportMessage(Message):
    """An inbound customer message for the support agent (topic support-messages)."""

    kind: ClassVar[str] = "support_message"
    inbound: InboundMessage

    def attributes(self) -> dict[str, str]:
        """Attributes naming the conversation, for logs and routing."""
        return {**super().attributes(), "conversation_key": self.inbound.conversation_key}


class BillingEvent(Message):
    """A Stripe event the workflows may act on (topic billing-events)."""

    kind: ClassVar[str] = "billing_event"
    event: StripeEvent


MAX_BATCH_ITEMS = 500


class TrackedEvent(BaseModel):
    """One accepted track or identify, as published and as applied to a profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: str
    type: Literal["track", "identify"]
    source: str
    user_id: str | None = None
    anonymous_id: str | None = None
    event: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime
    received_at: datetime

    @property
    def profile_key(self) -> tuple[Literal["user", "anonymous"], str]:
        """Whose profile this event updates: the user's, else the anonymous visitor's."""
        if self.user_id is not None:
            return "user", self.user_id
        assert self.anonymous_id is not None  # both bodies guarantee one of them
        return "anonymous", self.anonymous_id

    @property
    def name(self) -> str:
        """The counter this event increments: its event name, or "identify"."""
        return self.event if self.type == "track" and self.event else self.type

    @property
    def event_id(self) -> str:
        """The document id of this event, unique per source and message id."""
        return stable_id("tracked-event", self.source, self.message_id, length=32)


class TrackingEvents(Message):
    """The events of one accepted request, published on the `events` topic."""

    kind: ClassVar[str] = "tracking_events"
    source: str
    events: list[TrackedEvent] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)

    def attributes(self) -> dict[str, str]:
        """Routing attributes, with the source that sent the events."""
        return {**super().attributes(), "source": self.source}


class SegmentChange(Message):
    """A user entered or left a segment (published on `segment-changes`)."""

    kind: ClassVar[str] = "segment_change"
    segment: str
    user_id: str
    change: Literal["entered", "left"]
    entry: int = Field(ge=1)  # which of the user's entries into the segment this is (or ends)
    at: datetime

    @property
    def change_id(self) -> str:
        """The same id for every copy of this change: what consumers deduplicate on."""
        return stable_id("segment-change", self.segment, self.user_id, str(self.entry), self.change)

    def attributes(self) -> dict[str, str]:
        """Routing attributes, with the segment and the change id."""
        return {
            **super().attributes(),
            "segment": self.segment,
            "change": self.change,
            "change_id": self.change_id,
        }


@dataclass(frozen=True)
class MessageKind:
    """One kind of Pub/Sub message: its schema (the model) and the topic it travels on."""

    model: type[Message]
    topic: str  # a topic of the topology; "agent-{agent}" stands for every agent's own topic

    @property
    def kind(self) -> str:
        """The `kind` attribute consumers route on."""
        return self.model.kind


MESSAGES: tuple[MessageKind, ...] = (
    MessageKind(RunRequest, RUN_REQUESTS_TOPIC),
    MessageKind(RunCommand, RUN_REQUESTS_TOPIC),
    MessageKind(AgentTask, agent_topic("{agent}")),
    MessageKind(TaskResult, TASK_RESULTS_TOPIC),
    MessageKind(BillingEvent, BILLING_EVENTS_TOPIC),
    MessageKind(SupportMessage, SUPPORT_MESSAGES_TOPIC),
    MessageKind(TrackingEvents, EVENTS_TOPIC),
    MessageKind(SegmentChange, SEGMENT_CHANGES_TOPIC),
)
MESSAGE_TYPES: dict[str, type[Message]] = {m.kind: m.model for m in MESSAGES}


def inbound_id(message: InboundMessage) -> str:
    """The idempotency key of an inbound message: its platform and the platform's id."""
    return f"{message.platform}:{message.platform_message_id}"
