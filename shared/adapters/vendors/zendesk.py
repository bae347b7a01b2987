"""Zendesk Support: public replies on tickets, and escalation tickets that are created once.

API: https://{subdomain}.zendesk.com, API-token auth (HTTP Basic, `{email}/token:{api_token}`).

Replies, for conversations "zendesk:<ticket id>" (inbound: the ticket.comment_added event):

    PUT /api/v2/tickets/{id}.json
    {"ticket": {"comment": {"body": "...", "public": true},
                "metadata": {"controlroom_idempotency_key": "<key>"}}}

answers 200 `{"ticket": {...}, "audit": {"id", "metadata", "events": [{"type": "Comment",
"id", ...}, ...]}}`; the Comment event's id is the new comment's id. Zendesk keeps up to 1 KB
of custom metadata per update on its audit (`audit.metadata.custom`), so before the PUT the
ticket's latest audits are read,

    GET /api/v2/tickets/{id}/audits.json?sort_order=desc&page[size]=100

and if one carries our key the reply is already there: nothing is posted and the SentReply
says `deduplicated`. What this gives: a redelivery after a crash between the PUT and the
outbox mark posts no second comment. What it does not: two deliveries running at the same
moment can miss each other's audit and both comment; and a ticket with more than
`audit_lookback` newer audits is not searched further (then at-least-once). The PUT is tried
once per lookup: a retryable failure propagates, and the redelivery looks up again, so no
in-process retry can comment twice. Uncertainty: audits and their custom metadata are
documented (high); `sort_order` on this endpoint is in Zendesk's OpenAPI description but not
in every version of its docs (medium) - were it ignored, the oldest page comes back, which
still holds our audit on every ticket with fewer audits than the lookback.

Escalations:

    GET /api/v2/tickets.json?external_id=<external id>   -> {"tickets": [...], "count": n}
    POST /api/v2/tickets.json   with the header Idempotency-Key: <external id>
    {"ticket": {"subject", "comment": {"body", "public": false}, "external_id", "tags"}}

A ticket already holding the external id is returned and nothing is created (the oldest, if
several do). Zendesk does not enforce unique external ids, so the lookup alone would let two
racing deliveries create two tickets; Zendesk's Idempotency-Key for ticket creation (kept
for a limited time, two hours per its docs) makes a repeat POST return the first ticket.
Together: no second ticket. The key must come with the same body each time (Zendesk refuses a
reused key with different parameters), so callers build subject and body from what they
stored first, not from a fresh LLM draft. The escalation comment is an internal note: the
customer is not on Zendesk, and a public first comment would mail the requester.

Errors: `{"error": "RecordInvalid", "description", "details": {field: [{"description"}]}}`
(422), `{"error": "RecordNotFound", "description"}` (404), `{"error": {"title", "message"}}`
(some 401/403), and a 429 with Retry-After. A 409 (two updates of one ticket colliding) is
retryable, as Zendesk advises.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError
from shared.support.outbound import (
    InvalidConversationKeyError,
    OpenedTicket,
    OutboundConfigError,
    SentReply,
    thread_of,
)

VENDOR = "zendesk"
METADATA_KEY = "controlroom_idempotency_key"
DEFAULT_TAGS = ("controlroom", "escalation")
MAX_PAGE_SIZE = 100

_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

Model = TypeVar("Model", bound=BaseModel)


class _ZendeskObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ZendeskTicket(_ZendeskObject):
    """The parts of a ticket this adapter reads."""

    id: int
    external_id: str | None = None
    subject: str | None = None
    status: str | None = None


class _AuditEvent(_ZendeskObject):
    id: int | None = None
    type: str


class _AuditMetadata(_ZendeskObject):
    custom: Any = None


class ZendeskAudit(_ZendeskObject):
    """One update of a ticket: its events and metadata."""

    id: int
    metadata: _AuditMetadata | None = None
    events: list[_AuditEvent] = Field(default_factory=list)

    def key(self) -> Any:
        """Our idempotency key in the audit's custom metadata, if it has one."""
        custom = self.metadata.custom if self.metadata else None
        return custom.get(METADATA_KEY) if isinstance(custom, dict) else None

    def comment_id(self) -> str | None:
        """The id of the comment this update added, if any."""
        for event in self.events:
            if event.type == "Comment" and event.id is not None:
                return str(event.id)
        return None


class _AuditPage(_ZendeskObject):
    audits: list[ZendeskAudit]


class _TicketUpdate(_ZendeskObject):
    ticket: ZendeskTicket
    audit: ZendeskAudit | None = None


class _TicketList(_ZendeskObject):
    tickets: list[ZendeskTicket]


class ZendeskClient:
    """The ReplySender and EscalationTickets ports on one Zendesk Support account."""

    def __init__(
        self,
        subdomain: str,
        email: str,
        api_token: str,
        *,
        client: httpx.Client | None = None,
        base_url: str | None = None,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        audit_lookback: int = MAX_PAGE_SIZE,
        tags: Sequence[str] = DEFAULT_TAGS,
    ) -> None:
        if not _SUBDOMAIN.fullmatch(subdomain):
            raise OutboundConfigError(
                f"zendesk subdomain must be the name before .zendesk.com, got {subdomain[:80]!r}"
            )
        if not 1 <= audit_lookback <= MAX_PAGE_SIZE:
            raise ValueError(f"audit_lookback must be 1-{MAX_PAGE_SIZE}, got {audit_lookback}")
        basic = base64.b64encode(f"{email}/token:{api_token}".encode()).decode("ascii")
        self._auth = {"Authorization": f"Basic {basic}"}
        self.base_url = base_url or f"https://{subdomain}.zendesk.com"
        self.policy = policy or HttpPolicy()
        self.audit_lookback = audit_lookback
        self.tags = tuple(tags)
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=self.policy.timeout())
        self.http = self._http(self.policy)
        self._write_once = self._http(self.policy.model_copy(update={"max_attempts": 1}))

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    # --- replies -------------------------------------------------------------------------

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        """Add `text` as a public comment on the "zendesk:<ticket id>" ticket, once per key."""
        ticket_id = _ticket_id(conversation_key)
        earlier = self.find_reply(ticket_id, idempotency_key)
        if earlier is not None:
            return SentReply(platform_message_id=earlier.comment_id(), deduplicated=True)
        comment_id = self.add_public_comment(ticket_id, text, idempotency_key=idempotency_key)
        return SentReply(platform_message_id=comment_id)

    def find_reply(self, ticket_id: str, idempotency_key: str) -> ZendeskAudit | None:
        """The ticket's recent audit whose metadata carries `idempotency_key`, if any."""
        page = self.http.request_json(
            "GET",
            f"/api/v2/tickets/{ticket_id}/audits.json",
            params=[("sort_order", "desc"), ("page[size]", str(self.audit_lookback))],
        )
        for audit in _parse(_AuditPage, page, "audit list").audits:
            if audit.key() == idempotency_key:
                return audit
        return None

    def add_public_comment(self, ticket_id: str, body: str, *, idempotency_key: str) -> str | None:
        """Add a public comment tagged with the key (one attempt); the comment's id."""
        update = {
            "ticket": {
                "comment": {"body": body, "public": True},
                "metadata": {METADATA_KEY: idempotency_key},
            }
        }
        answer = self._write_once.request_json(
            "PUT", f"/api/v2/tickets/{ticket_id}.json", json=update
        )
        audit = _parse(_TicketUpdate, answer, "ticket update").audit
        return audit.comment_id() if audit else None

    # --- escalations ---------------------------------------------------------------------

    def open_ticket(self, external_id: str, subject: str, body: str) -> OpenedTicket:
        """The ticket holding `external_id`; created (with an Idempotency-Key) if none does."""
        existing = self.find_ticket(external_id)
        if existing is not None:
            return OpenedTicket(ticket_id=str(existing.id), created=False)
        ticket = self.create_ticket(subject, body, external_id=external_id)
        return OpenedTicket(ticket_id=str(ticket.id), created=True)

    def find_ticket(self, external_id: str) -> ZendeskTicket | None:
        """The oldest ticket whose external_id is `external_id`, or None."""
        answer = self.http.request_json(
            "GET", "/api/v2/tickets.json", params=[("external_id", external_id)]
        )
        tickets = [
            t
            for t in _parse(_TicketList, answer, "ticket list").tickets
            if t.external_id == external_id
        ]
        return min(tickets, key=lambda t: t.id) if tickets else None

    def create_ticket(self, subject: str, body: str, *, external_id: str) -> ZendeskTicket:
        """Create a ticket opened by an internal note, with Idempotency-Key = external_id."""
        ticket = {
            "ticket": {
                "subject": subject,
                "comment": {"body": body, "public": False},
                "external_id": external_id,
                "tags": list(self.tags),
            }
        }
        http = self._http(self.policy, {"Idempotency-Key": external_id})
        answer = http.request_json("POST", "/api/v2/tickets.json", json=ticket)
        return _parse(_TicketUpdate, answer, "created ticket").ticket

    def _http(
        self, policy: HttpPolicy, extra_headers: Mapping[str, str] | None = None
    ) -> VendorHttp:
        headers = {**self._auth, **(extra_headers or {})}
        return VendorHttp(
            VENDOR,
            self.base_url,
            auth_headers=lambda: headers,
            error_message=zendesk_error_message,
            client=self._client,
            policy=policy,
            retry_hint=_conflict_is_retryable,
            sleep=self._sleep,
        )


def zendesk_error_message(body: Any) -> str | None:
    """Zendesk's words from `{"error", "description", "details"}` or `{"error": {"title", ...}}`."""
    error = body.get("error")
    if isinstance(error, dict):
        title, message = error.get("title"), error.get("message")
        return f"{title}: {message}" if title and message else (message or title)
    parts = []
    description = body.get("description")
    if description and error:
        parts.append(f"{description} ({error})")
    elif description or error:
        parts.append(str(description or error))
    details = body.get("details")
    if isinstance(details, dict):
        for field, problems in details.items():
            for problem in problems if isinstance(problems, list) else [problems]:
                text = problem.get("description") if isinstance(problem, dict) else problem
                if text:
                    parts.append(f"{field}: {text}")
    return "; ".join(parts) or None


def _conflict_is_retryable(response: httpx.Response) -> bool | None:
    # Zendesk answers 409 when two updates of one ticket collide, and says to retry.
    return True if response.status_code == 409 else None


def _ticket_id(conversation_key: str) -> str:
    ticket_id = thread_of(conversation_key, VENDOR)
    if not ticket_id.isdigit():
        raise InvalidConversationKeyError(
            f"conversation key {conversation_key[:80]!r} does not name a Zendesk ticket id"
        )
    return ticket_id


def _parse(model: type[Model], data: Any, what: str) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise VendorPermanentError(VENDOR, f"unexpected {what} shape: {error}") from error
