"""Shapes of the tracking API: request bodies, the published event, the profile documents.

A request item (`TrackBody`, `IdentifyBody`, or either inside `BatchBody`) becomes one
`TrackedEvent` once accepted: its message id settled, its time and source stamped. Accepted
events travel as one `TrackingEvents` message per request on the `events` topic.

Idempotency: an item's `message_id` identifies it (the SDK sends a UUID per event, as
Segment's libraries do). When an item has none, the id is derived from a hash of the source
and the item's canonical JSON, so a client re-sending the same body is still deduplicated;
if the item has no `timestamp` either, the receive time joins the hash (two identical
untimed events are different events), so such re-sends are not deduplicated.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from shared.core.messages import MAX_BATCH_ITEMS, TrackedEvent
from shared.core.models import stable_id

MAX_PROPERTY_DEPTH = 8
RECENT_EVENTS = 20


def _json_document(value: dict[str, Any]) -> dict[str, Any]:
    """Properties and traits: JSON objects Firestore can store (no empty keys, not too deep)."""
    _check_node(value, 1)
    return value


def _check_node(value: Any, depth: int) -> None:
    if depth > MAX_PROPERTY_DEPTH:
        raise ValueError(f"nested deeper than {MAX_PROPERTY_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not key:
                raise ValueError("keys must not be empty")
            _check_node(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_node(item, depth + 1)


def _document_id(value: str) -> str:
    if value in (".", "..") or (value.startswith("__") and value.endswith("__")):
        raise ValueError('must not be "." or ".." or look like __reserved__')
    return value


# A Firestore document id: no slash or control character, not "."/"..", not __reserved__.
Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=256, pattern=r"^[^/\x00-\x1f\x7f-\x9f]+$"),
    AfterValidator(_document_id),
]
EventName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")
]
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_document)]


def _aware(value: datetime | None) -> datetime | None:
    """A timestamp without a zone is taken as UTC, as Segment's API does."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


Timestamp = Annotated[datetime | None, AfterValidator(_aware)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timestamp: Timestamp = None
    message_id: MessageId | None = None
    context: JsonObject = Field(default_factory=dict)


class TrackBody(_Item):
    """POST /v1/track: something a user did."""

    type: Literal["track"] = "track"
    user_id: Identifier | None = None
    anonymous_id: Identifier | None = None
    event: EventName
    properties: JsonObject = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone(self) -> TrackBody:
        if self.user_id is None and self.anonymous_id is None:
            raise ValueError("user_id or anonymous_id is required")
        return self


class IdentifyBody(_Item):
    """POST /v1/identify: who a user is (traits merge into the profile)."""

    type: Literal["identify"] = "identify"
    user_id: Identifier
    anonymous_id: Identifier | None = None
    traits: JsonObject = Field(default_factory=dict)


class _TrackItem(TrackBody):
    type: Literal["track"]


class _IdentifyItem(IdentifyBody):
    type: Literal["identify"]


BatchItem = Annotated[_TrackItem | _IdentifyItem, Field(discriminator="type")]


class BatchBody(BaseModel):
    """POST /v1/batch: up to MAX_BATCH_ITEMS track and identify items, each with its `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)
    context: JsonObject = Field(default_factory=dict)


def accept_item(item: TrackBody | IdentifyBody, source: str, received_at: datetime) -> TrackedEvent:
    """The event an accepted item becomes (its message id settled, see the module's note)."""
    message_id = item.message_id or derive_message_id(item, source, received_at)
    return TrackedEvent(
        message_id=message_id,
        type=item.type,
        source=source,
        user_id=item.user_id,
        anonymous_id=item.anonymous_id,
        event=item.event if isinstance(item, TrackBody) else None,
        properties=item.properties if isinstance(item, TrackBody) else {},
        traits=item.traits if isinstance(item, IdentifyBody) else {},
        context=item.context,
        timestamp=item.timestamp or received_at,
        received_at=received_at,
    )


def derive_message_id(item: TrackBody | IdentifyBody, source: str, received_at: datetime) -> str:
    """A message id from the item's content (and the receive time when it has no timestamp)."""
    canonical = json.dumps(item.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    when = "" if item.timestamp is not None else received_at.isoformat()
    return "derived-" + stable_id(source, canonical, when, length=32)


class ProfileDoc(BaseModel):
    """profiles/{user_id} (or anonymous_profiles/{anonymous_id}) as stored."""

    model_config = ConfigDict(extra="ignore")

    traits: dict[str, Any] = Field(default_factory=dict)
    counters: dict[str, int] = Field(default_factory=dict)
    daily: dict[str, dict[str, int]] = Field(default_factory=dict)  # UTC day -> name -> count
    event_count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    anonymous_ids: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class Profile(BaseModel):
    """A profile as read: the document, and its most recent events (newest first)."""

    kind: Literal["user", "anonymous"]
    id: str
    doc: ProfileDoc
    recent_events: list[TrackedEvent] = Field(default_factory=list)
