"""Where replies and escalation notices leave controlroom: the ports, the local versions, and
the choice of vendor adapter from the configured credentials.

Ports
- `ReplySender.send_reply(conversation_key, in_reply_to, text, idempotency_key) -> SentReply`
  conversation_key is "platform:thread" (`shared.core.messages.conversation_key`),
  in_reply_to the platform's own id of the customer message answered
  (`InboundMessage.platform_message_id`), idempotency_key a deterministic key of this one
  reply (the inbound message id, "platform:message id").
- `Notifier.notify(key, text) -> None`: tell people about an escalation; `key` is
  deterministic per notice (e.g. "ticket-<message id>").
- `EscalationTickets.open_ticket(external_id, subject, body) -> OpenedTicket`: a ticket in the
  business's helpdesk.

What each implementation gives when the same reply or notice is asked for twice (a Pub/Sub
redelivery, possibly after a crash between the vendor call and its effect record,
shared.core.effects):

    implementation           vendor dedupe                   a repeat call
    LocalReplySender         (the effect's Firestore batch) exactly once, by the caller
    TikTok DM                none                            at-least-once: may send again
    LinkedIn comment         none                            at-least-once: may comment again
    Zendesk public comment   audit metadata, looked up       no second comment, unless two
                             first (recent N audits)         deliveries race
    Zendesk ticket           external_id lookup, plus        no second ticket
                             Idempotency-Key on create       (the key also covers races)
    Slack notice             message metadata, looked up     no second post, unless two
                             first (recent N messages)       deliveries race
    LocalNotifier            (Firestore notifications/)      the store's create() dedupes

Configuration: a plain mapping of credential name -> value (str, SecretStr, or None/"" for
unset), so `Settings.model_dump()` works once the fields below exist. Each name is a
proposed `shared.wiring.settings.Settings` field, read from CONTROLROOM_<NAME upper-cased>:

    tiktok_access_token, tiktok_business_id
    linkedin_access_token, linkedin_organization_urn, linkedin_api_version (optional)
    zendesk_subdomain, zendesk_email, zendesk_api_token
    slack_bot_token, slack_channel (a channel ID such as C0123ABCDEF, not "#name")

A vendor with none of its credentials set gets the local implementation; a vendor with only
some set is a mistake and raises `OutboundConfigError` naming what is missing, never a silent
fallback to local. The site chat ("generic") is always local: its widget reads the Firestore
thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from shared.core.errors import PermanentError
from shared.http.errors import VendorRetryableError

if TYPE_CHECKING:
    from shared.support.ratelimit import OutboundLimiter


class OutboundConfigError(PermanentError):
    """A vendor configured only in part, or a platform nobody can reply on."""


class InvalidConversationKeyError(PermanentError):
    """A conversation key that is not "platform:thread" for the adapter's platform."""


@dataclass(frozen=True)
class SentReply:
    """What became of one reply: the platform's id for it, and whether it had gone out before."""

    platform_message_id: str | None
    deduplicated: bool = False


@dataclass(frozen=True)
class OpenedTicket:
    """A helpdesk ticket for an escalation, and whether this call created it."""

    ticket_id: str
    created: bool


class ReplySender(Protocol):
    """Sends the agent's answer back where the customer wrote."""

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        """Send `text` into the conversation as the answer to message `in_reply_to`."""
        ...


class Notifier(Protocol):
    """Tells people that a conversation needs them."""

    def notify(self, key: str, text: str) -> None:
        """Post `text` once per `key`."""
        ...


class EscalationTickets(Protocol):
    """Opens tickets in the business's helpdesk."""

    def open_ticket(self, external_id: str, subject: str, body: str) -> OpenedTicket:
        """The ticket for `external_id`, created if there is none yet."""
        ...


class LocalReplySender:
    """The local channel: the reply is the message written to the Firestore thread."""

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        """Nothing to send: the caller's write of the thread is the delivery."""
        split_conversation_key(conversation_key)
        return SentReply(platform_message_id=None)


class LocalNotifier:
    """The local notifier: `ConversationStore.notify` already wrote notifications/{id}."""

    def notify(self, key: str, text: str) -> None:
        """Nothing to post."""
        return None


class RateLimitedReplySender:
    """A ReplySender that waits for the platform's send slot before each reply."""

    def __init__(self, sender: ReplySender, platform: str, limiter: OutboundLimiter) -> None:
        self.sender = sender
        self.platform = platform
        self.limiter = limiter

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        """Wait for a slot (or raise OutboundRateLimited), then send; back off on a 429."""
        self.limiter.acquire(self.platform)
        try:
            return self.sender.send_reply(conversation_key, in_reply_to, text, idempotency_key)
        except VendorRetryableError as error:
            if error.retry_after_s is not None:
                self.limiter.hold_off(self.platform, error.retry_after_s)
            raise


def split_conversation_key(key: str) -> tuple[str, str]:
    """The platform and the platform's thread id of a "platform:thread" key."""
    platform, sep, thread = key.partition(":")
    if not sep or not platform or not thread:
        raise InvalidConversationKeyError(f"conversation key {key[:80]!r} is not platform:thread")
    return platform, thread


def thread_of(key: str, platform: str) -> str:
    """The thread id of a conversation key that must belong to `platform`."""
    key_platform, thread = split_conversation_key(key)
    if key_platform != platform:
        raise InvalidConversationKeyError(
            f"conversation key {key[:80]!r} is not a {platform} conversation"
        )
    return thread
