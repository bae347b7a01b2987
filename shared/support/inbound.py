"""Customer messages arriving by webhook, normalised into one `InboundMessage` shape.

A parser per platform, `parse_<platform>(payload) -> list[InboundMessage]`, reads the JSON
body the vendor POSTs (after `shared.security.signatures` has verified it). A webhook may
carry several messages or none: delivery receipts, read markers, likes, our own outgoing
echoes and staff replies all parse to `[]`. Billing events from Stripe are not messages;
`parse_stripe_event` turns them into a `StripeEvent` that flags churn signals.

Each vendor shape is a pydantic model that ignores fields it does not use, so vendors can add
fields freely; the fields we read are validated. A payload that fails raises
`InvalidPayloadError` (InvalidRequestError, 400) whose message names the vendor's field path,
e.g. `tiktok payload: content.text.body: String should have at most 4000 characters`.
Limits: message text 1 to 4000 characters, ids 1 to 256 characters without '/'.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from shared.core.errors import InvalidRequestError
from shared.core.messages import (
    Email,
    Id,
    InboundMessage,
    InboundUser,
    LanguageTag,
    Name,
    Platform,
    StripeEvent,
    Text,
    conversation_key,
)


class InvalidPayloadError(InvalidRequestError):
    """A webhook body that does not have the vendor's documented shape."""


# --- the normalised shapes ------------------------------------------------------------


# --- vendor shapes --------------------------------------------------------------------


class _Vendor(BaseModel):
    """A vendor's JSON: fields we do not read are ignored, fields we read are validated."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


V = TypeVar("V", bound=BaseModel)


def _validate(model: type[V], data: object, platform: str, prefix: str = "") -> V:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayloadError(f"{platform} payload: {_describe(exc, prefix)}") from exc


def _describe(exc: ValidationError, prefix: str) -> str:
    parts = []
    for error in exc.errors():
        where = prefix + ".".join(str(p) for p in error["loc"])
        parts.append(f"{where or 'body'}: {error['msg']}")
    return "; ".join(parts)


def _from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


EpochMs = Annotated[int, Field(ge=0, le=253_402_300_799_000)]  # at most 9999-12-31


# --- TikTok ---------------------------------------------------------------------------
#
# TikTok Business Messaging webhooks (TikTok API for Business, "Direct Message" webhooks)
# use TikTok's common webhook envelope, documented on developers.tiktok.com/doc/webhooks-overview:
#   {"client_key", "event", "create_time", "user_openid", "content": "<JSON-encoded string>"}
# For `im_receive_msg` (a user wrote to the business) the decoded content carries
# conversation_id, message_id, timestamp (ms), type ("text", "image", "share_post", ...),
# from / from_user.id, to / to_user.id and, for text, text.body. The Business API page that
# documents the content fields was not available to us; field names follow open-source
# integrations built against it (Chatwoot's TikTok channel), so treat them as medium
# certainty. `im_send_msg` (our own outgoing echo) and `im_mark_read_msg` carry no customer
# text and parse to []; so do non-text messages (images, shared posts, stickers).

TIKTOK_MESSAGE_EVENT = "im_receive_msg"


class _TikTokEnvelope(_Vendor):
    event: Id
    user_openid: Name | None = None
    content: str | dict[str, Any]  # documented as a JSON-encoded string

    def decoded_content(self) -> dict[str, Any]:
        if isinstance(self.content, dict):
            return self.content
        try:
            decoded = json.loads(self.content)
        # Besides JSONDecodeError (a ValueError), valid JSON that Python will not load: an
        # integer over sys.get_int_max_str_digits() (ValueError) or deep nesting (RecursionError).
        except (ValueError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise InvalidPayloadError(
                f"tiktok payload: content: not a JSON-encoded object ({reason})"
            ) from exc
        if not isinstance(decoded, dict):
            raise InvalidPayloadError("tiktok payload: content: not a JSON-encoded object")
        return decoded


class _TikTokUser(_Vendor):
    id: Id


class _TikTokText(_Vendor):
    body: Text


class _TikTokTextMessage(_Vendor):
    conversation_id: Id
    message_id: Id
    timestamp: EpochMs
    type: Literal["text"]
    from_: Name | None = Field(default=None, alias="from")
    from_user: _TikTokUser
    text: _TikTokText


def parse_tiktok(payload: dict[str, Any]) -> list[InboundMessage]:
    """Messages in a TikTok Business Messaging webhook: one for a user's text DM, else []."""
    envelope = _validate(_TikTokEnvelope, payload, "tiktok")
    if envelope.event != TIKTOK_MESSAGE_EVENT:
        return []
    content = envelope.decoded_content()
    if content.get("type") != "text":
        return []
    message = _validate(_TikTokTextMessage, content, "tiktok", prefix="content.")
    return [
        _message(
            "tiktok",
            platform_message_id=message.message_id,
            conversation_key=conversation_key("tiktok", message.conversation_id),
            user=InboundUser(platform_user_id=message.from_user.id, display_name=message.from_),
            text=message.text.body,
            sent_at=_from_epoch_ms(message.timestamp),
            raw_event_type=envelope.event,
        )
    ]


# --- LinkedIn -------------------------------------------------------------------------
#
# LinkedIn has no public webhook for company-page direct messages; customers reach a page
# through comments, delivered by the Organization Social Action Notifications webhook
# (learn.microsoft.com/linkedin/marketing/community-management/organizations/
# organization-social-action-notifications):
#   {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [ {
#       "notificationId", "action" (COMMENT, LIKE, SHARE_MENTION, ADMIN_COMMENT, ...),
#       "organizationalEntity", "sourcePost", "generatedActivity", "lastModifiedAt" (ms),
#       "decoratedGeneratedActivity": {"comment": {"entity", "owner", "object", "text"}} } ]}
# Uncertainty: the documented example puts the comment's text in `comment.text`; some
# integrations read `comment.message.text` (the Comments API's shape), so both are read.
# Only COMMENT notifications become messages; ADMIN_COMMENT is the page answering itself,
# and a comment without text (an image only) is not something an agent can answer.

LINKEDIN_NOTIFICATIONS_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"


class _LinkedInEnvelope(_Vendor):
    type: Name | None = None
    notifications: list[dict[str, Any]] | None = None


class _LinkedInMessageText(_Vendor):
    text: Text | None = None


class _LinkedInComment(_Vendor):
    entity: Id | None = None
    owner: Id
    object: Id | None = None
    text: Text | None = None
    message: _LinkedInMessageText | None = None

    @property
    def body(self) -> str | None:
        return self.text or (self.message.text if self.message else None)


class _LinkedInActivity(_Vendor):
    comment: _LinkedInComment | None = None


class _LinkedInAction(_Vendor):
    notification_id: Id = Field(alias="notificationId")
    action: Name


class _LinkedInCommentNotification(_LinkedInAction):
    organizational_entity: Id | None = Field(default=None, alias="organizationalEntity")
    source_post: Id = Field(alias="sourcePost")
    generated_activity: Id | None = Field(default=None, alias="generatedActivity")
    last_modified_at: EpochMs | None = Field(default=None, alias="lastModifiedAt")
    decorated: _LinkedInActivity | None = Field(default=None, alias="decoratedGeneratedActivity")


def parse_linkedin(payload: dict[str, Any]) -> list[InboundMessage]:
    """Messages in a LinkedIn social-action webhook: one per member comment with text."""
    envelope = _validate(_LinkedInEnvelope, payload, "linkedin")
    if envelope.type not in (None, LINKEDIN_NOTIFICATIONS_TYPE):
        return []  # another webhook product (e.g. lead sync) delivered to this endpoint
    if envelope.notifications is None:
        raise InvalidPayloadError("linkedin payload: notifications: Field required")
    messages = []
    for index, raw in enumerate(envelope.notifications):
        prefix = f"notifications.{index}."
        action = _validate(_LinkedInAction, raw, "linkedin", prefix)
        if action.action != "COMMENT":
            continue
        notification = _validate(_LinkedInCommentNotification, raw, "linkedin", prefix)
        comment = notification.decorated.comment if notification.decorated else None
        if comment is None or not comment.body:
            continue
        if comment.owner == notification.organizational_entity:
            continue  # the page commenting as itself
        comment_id = comment.entity or notification.generated_activity
        if comment_id is None:
            raise InvalidPayloadError(
                f"linkedin payload: {prefix}generatedActivity: Field required for a COMMENT"
            )
        messages.append(
            _message(
                "linkedin",
                platform_message_id=comment_id,
                conversation_key=conversation_key("linkedin", notification.source_post),
                user=InboundUser(platform_user_id=comment.owner),
                text=comment.body,
                sent_at=_from_epoch_ms(notification.last_modified_at)
                if notification.last_modified_at is not None
                else None,
                raw_event_type=action.action,
            )
        )
    return messages


# --- Zendesk --------------------------------------------------------------------------
#
# Zendesk's ticket event webhooks (developer.zendesk.com, "Ticket events", event type
# `zen:event-type:ticket.comment_added`, zendesk_event_version 2022-11-06):
#   {"type", "id", "time", "account_id", "subject": "zen:ticket:<id>",
#    "detail": {<the ticket: id, requester_id, status, subject, ...>},
#    "event": {"comment": {"id", "body", "is_public", "author": {"id", "is_staff", "name"}}}}
# Trigger-driven webhooks send whatever JSON the admin writes in the trigger, so there is
# no vendor shape to parse; point Zendesk at us with an event subscription instead.
# Staff comments (our agents' replies) and private notes are not customer messages: [].

ZENDESK_COMMENT_EVENT = "zen:event-type:ticket.comment_added"


class _ZendeskEnvelope(_Vendor):
    type: Id


class _ZendeskAuthor(_Vendor):
    id: Id
    is_staff: bool = False
    name: Name | None = None


class _ZendeskComment(_Vendor):
    id: Id
    body: Text
    is_public: bool = True
    author: _ZendeskAuthor


class _ZendeskCommentEvent(_Vendor):
    comment: _ZendeskComment


class _ZendeskTicket(_Vendor):
    id: Id


class _ZendeskCommentAdded(_Vendor):
    type: Literal["zen:event-type:ticket.comment_added"]
    id: Id
    time: AwareDatetime
    detail: _ZendeskTicket
    event: _ZendeskCommentEvent


def parse_zendesk(payload: dict[str, Any]) -> list[InboundMessage]:
    """Messages in a Zendesk ticket event: one for a public comment by the customer, else []."""
    envelope = _validate(_ZendeskEnvelope, payload, "zendesk")
    if envelope.type != ZENDESK_COMMENT_EVENT:
        return []
    event = _validate(_ZendeskCommentAdded, payload, "zendesk")
    comment = event.event.comment
    if comment.author.is_staff or not comment.is_public:
        return []
    return [
        _message(
            "zendesk",
            platform_message_id=comment.id,
            conversation_key=conversation_key("zendesk", event.detail.id),
            user=InboundUser(platform_user_id=comment.author.id, display_name=comment.author.name),
            text=comment.body,
            sent_at=event.time,
            raw_event_type=event.type,
        )
    ]


# --- generic (our own site chat) ------------------------------------------------------


class _GenericUser(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Id
    name: Name | None = None
    email: Email | None = None


class _GenericMessage(BaseModel):
    """Our own chat widget's message; we own the shape, so unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    message_id: Id
    conversation_id: Id
    user: _GenericUser
    text: Text
    sent_at: AwareDatetime | None = None
    language: LanguageTag | None = None


def parse_generic(payload: dict[str, Any]) -> list[InboundMessage]:
    """The one message our site chat posts: `{message_id, conversation_id, user, text, ...}`."""
    message = _validate(_GenericMessage, payload, "generic")
    return [
        _message(
            "generic",
            platform_message_id=message.message_id,
            conversation_key=conversation_key("generic", message.conversation_id),
            user=InboundUser(
                platform_user_id=message.user.id,
                display_name=message.user.name,
                email=message.user.email,
            ),
            text=message.text,
            language=message.language,
            sent_at=message.sent_at,
            raw_event_type="message",
        )
    ]


def _message(platform: Platform, **fields: Any) -> InboundMessage:
    # The vendor model already enforced every limit, so a failure here is our bug, but it is
    # still reported as the payload's fault rather than escaping as a 500 with no context.
    return _validate(InboundMessage, {"platform": platform, **fields}, platform, "normalised ")


PARSERS: dict[str, Callable[[dict[str, Any]], list[InboundMessage]]] = {
    "tiktok": parse_tiktok,
    "linkedin": parse_linkedin,
    "zendesk": parse_zendesk,
    "generic": parse_generic,
}


def parse_inbound(platform: str, payload: object) -> list[InboundMessage]:
    """The messages in a verified webhook body from the named platform."""
    parser = PARSERS.get(platform)
    if parser is None:
        raise InvalidRequestError(f"no message parser for platform {platform[:40]!r}")
    if not isinstance(payload, dict):
        raise InvalidPayloadError(f"{platform} payload: body must be a JSON object")
    return parser(payload)


# --- Stripe ---------------------------------------------------------------------------
#
# Stripe event objects (docs.stripe.com/api/events/object):
#   {"id": "evt_...", "object": "event", "type", "created" (unix s),
#    "data": {"object": {...the resource...}, "previous_attributes": {...}?}, ...}
# A churn signal is a subscription ending (`customer.subscription.deleted`) or one set to end
# (`customer.subscription.updated` whose subscription has `cancel_at_period_end: true`). The
# flag is set on every such update, not only the one that flipped it; deduplicate per
# subscription downstream. Cancellations scheduled with `cancel_at` alone are not flagged.

CHURN_EVENT_TYPES = frozenset({"customer.subscription.deleted"})


class _StripeObject(_Vendor):
    id: Id | None = None
    object: Name | None = None
    customer: Id | dict[str, Any] | None = None
    cancel_at_period_end: bool | None = None


class _StripeData(_Vendor):
    object: _StripeObject


class _StripeEventPayload(_Vendor):
    id: Annotated[Id, StringConstraints(pattern=r"^evt_")]
    object: Literal["event"] = "event"
    type: Id
    created: Annotated[int, Field(ge=0, le=253_402_300_799)]
    data: _StripeData


def parse_stripe_event(payload: dict[str, Any]) -> StripeEvent:
    """The event's ids and whether it signals churn."""
    event = _validate(_StripeEventPayload, payload, "stripe")
    resource = event.data.object
    ending = event.type in CHURN_EVENT_TYPES
    set_to_end = (
        event.type == "customer.subscription.updated" and resource.cancel_at_period_end is True
    )
    fields = {
        "id": event.id,
        "type": event.type,
        "created": datetime.fromtimestamp(event.created, UTC),
        "customer_id": _stripe_customer_id(resource),
        "object_id": resource.id,
        "is_churn_signal": ending or set_to_end,
    }
    return _validate(StripeEvent, fields, "stripe", "normalised ")


def _stripe_customer_id(resource: _StripeObject) -> str | None:
    if resource.object == "customer":
        return resource.id
    if isinstance(resource.customer, dict):  # expanded into the customer object
        customer_id = resource.customer.get("id")
        return customer_id if isinstance(customer_id, str) else None
    return resource.customer
