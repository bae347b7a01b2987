"""Decoding Pub/Sub deliveries, as Eventarc hands them to a function, into typed messages."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from shared.core.errors import InvalidMessageError
from shared.core.messages import MESSAGE_TYPES
from shared.core.models import Message

M = TypeVar("M", bound=Message)

DEAD_LETTER_SOURCE_ATTRIBUTE = "CloudPubSubDeadLetterSourceSubscription"
DEAD_LETTER_COUNT_ATTRIBUTE = "CloudPubSubDeadLetterSourceDeliveryCount"
# W3C trace context (shared/core/tracing.py); Pub/Sub carries it as a message attribute.
TRACEPARENT_ATTRIBUTE = "traceparent"


@dataclass(frozen=True)
class Delivery:
    """One Pub/Sub message as delivered to a function."""

    message_id: str
    data: bytes
    attributes: dict[str, str] = field(default_factory=dict)
    publish_time: str | None = None
    subscription: str | None = None
    delivery_attempt: int | None = None

    @property
    def traceparent(self) -> str | None:
        """The W3C trace context of the publishing span, when the publisher sent one."""
        return self.attributes.get(TRACEPARENT_ATTRIBUTE)

    @property
    def dead_lettered_from(self) -> str | None:
        """The subscription that gave up on this message, when it was dead-lettered."""
        return self.attributes.get(DEAD_LETTER_SOURCE_ATTRIBUTE)

    @property
    def dead_letter_attempts(self) -> int | None:
        """How many deliveries failed before the message was dead-lettered."""
        return _count(self.attributes.get(DEAD_LETTER_COUNT_ATTRIBUTE))


def delivery_from_cloud_event(event_id: str, data: Any) -> Delivery:
    """Read the MessagePublishedData of a google.cloud.pubsub.topic.v1.messagePublished event."""
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise InvalidMessageError("CloudEvent data has no 'message' object")
    message = data["message"]
    try:
        payload = base64.b64decode(message.get("data", ""), validate=True)
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise InvalidMessageError(f"message data is not valid base64: {exc}") from exc
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise InvalidMessageError("message attributes must be an object")
    return Delivery(
        message_id=str(message.get("messageId") or message.get("message_id") or event_id),
        data=payload,
        attributes={str(k): str(v) for k, v in attributes.items()},
        publish_time=_text(message.get("publishTime")),
        subscription=_text(data.get("subscription")),
        delivery_attempt=_count(data.get("deliveryAttempt")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: object) -> int | None:
    """A delivery count sent as a number or as digits; None for anything else. ASCII digits
    only: str.isdigit() also accepts "²", which int() refuses."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value):
        return int(value)
    return None


def parse_message(delivery: Delivery, expected: type[M]) -> M:
    """Validate the delivery's JSON payload as `expected`; InvalidMessageError says why not."""
    kind = delivery.attributes.get("kind", expected.kind)
    if kind != expected.kind:
        raise InvalidMessageError(f"expected a {expected.kind!r} message, got kind {kind!r}")
    try:
        body = json.loads(delivery.data)
    # JSONDecodeError and UnicodeDecodeError are ValueErrors; so is an integer over
    # sys.get_int_max_str_digits(), and nesting too deep to load is a RecursionError.
    except (ValueError, RecursionError) as exc:
        raise InvalidMessageError(f"payload is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidMessageError("payload must be a JSON object")
    try:
        return expected.model_validate(body)
    except ValidationError as exc:
        raise InvalidMessageError(describe_validation_error(exc)) from exc


def message_type_of(delivery: Delivery) -> type[Message] | None:
    """The message class named by the delivery's `kind` attribute, if any."""
    return MESSAGE_TYPES.get(delivery.attributes.get("kind", ""))


def describe_validation_error(exc: ValidationError, *, at: str = "") -> str:
    """One line naming each failing field (under `at`, e.g. "params.") and why."""
    parts = []
    for error in exc.errors():
        where = at + ".".join(str(p) for p in error["loc"])
        parts.append(f"{where.rstrip('.') or 'body'}: {error['msg']}")
    return "; ".join(parts)
