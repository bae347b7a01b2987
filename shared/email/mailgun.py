"""Mailgun: the messages API to send, and the Events API to find an email that already left.

API: https://api.mailgun.net (https://api.eu.mailgun.net for EU domains), HTTP Basic auth
with the user "api" and a sending or account API key, on one sending domain.

    POST /v3/{domain}/messages         (application/x-www-form-urlencoded)
    from, to, subject, text, html (when any),
    h:Message-Id=<key@controlroom>, h:X-Controlroom-Key=<key>, v:controlroom_key=<key>,
    h:List-Unsubscribe=<url>, h:List-Unsubscribe-Post=... (the email's other headers)
    -> 200 {"id": "<key@controlroom>", "message": "Queued. Thank you."}

    GET /v3/{domain}/events?message-id=key@controlroom&limit=25
    -> {"items": [{"event": "accepted", "id", "timestamp", "recipient",
                   "message": {"headers": {"message-id", "from", "to", "subject"}},
                   "user-variables": {"controlroom_key": "<key>"}}, ...],
        "paging": {"next", "previous", "first", "last"}}

Mailgun keeps a Message-Id given with `h:Message-Id`, and its events are filtered by that id
(without angle brackets). Any event other than "rejected" (accepted, delivered, failed,
opened...) means the message left: `find_sent` returns it. What this gives: a redelivery
after a crash between the send and its record sends nothing twice once the accepted event is
visible (Mailgun stores events within seconds; sooner, at-least-once). Events are kept for a
few days at least (longer on paid plans); Mailgun now points to its Logs API as the
successor of the Events API, which still answers.

Errors: `{"message": "..."}` (400, 404), a plain "Forbidden" for a wrong key (401),
429 EmailNotAcceptedError (retried in process), 5xx VendorRetryableError (not retried).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.email._http import HttpEmailSender
from shared.email.message import (
    KEY_HEADER,
    OutgoingEmail,
    SentEmail,
    message_id_of,
)
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError

MAILGUN_API = "https://api.mailgun.net"
VENDOR = "mailgun"
VARIABLE = "controlroom_key"
LOOKUP_LIMIT = 25


class _Headers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    message_id: str | None = Field(default=None, alias="message-id")


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    headers: _Headers = Field(default_factory=_Headers)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    event: str
    message: _Message = Field(default_factory=_Message)
    user_variables: dict[str, Any] = Field(default_factory=dict, alias="user-variables")


class _Events(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    items: list[_Event]


class _Queued(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str


class MailgunEmailSender(HttpEmailSender):
    """The EmailSender port on one Mailgun sending domain."""

    provider = VENDOR

    def __init__(
        self,
        api_key: str,
        domain: str,
        sender: str,
        *,
        base_url: str = MAILGUN_API,
        client: httpx.Client | None = None,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.domain = domain
        token = base64.b64encode(f"api:{api_key}".encode()).decode()
        super().__init__(
            sender,
            base_url=base_url,
            lookup_base_url=f"{base_url.rstrip('/')}/v3/{domain}",
            headers={"Authorization": f"Basic {token}"},
            error_message=mailgun_error_message,
            client=client,
            policy=policy,
            sleep=sleep,
        )

    def send(self, email: OutgoingEmail) -> SentEmail:
        """POST the email's form to /messages; retried only on a 429 or a refused connection."""
        response = self._post(f"/v3/{self.domain}/messages", data=messages_form(email, self.sender))
        try:
            queued_id = _Queued.model_validate(response.json()).id
        except (ValueError, ValidationError):
            # Accepted (2xx) all the same: an unreadable body must not make it an error.
            queued_id = email.message_id
        return SentEmail(provider=VENDOR, provider_message_id=queued_id.strip("<>"))

    def find_sent(self, idempotency_key: str) -> SentEmail | None:
        """The message with this key's Message-ID among the domain's events, or None."""
        message_id = message_id_of(idempotency_key).strip("<>")
        body = self.http.request_json(
            "GET", "/events", params=[("message-id", message_id), ("limit", str(LOOKUP_LIMIT))]
        )
        try:
            events = _Events.model_validate(body)
        except ValidationError as error:
            raise VendorPermanentError(VENDOR, f"unexpected events shape: {error}") from error
        for event in events.items:
            tagged = event.user_variables.get(VARIABLE, idempotency_key)
            if event.event != "rejected" and tagged == idempotency_key:
                found = event.message.headers.message_id or message_id
                return SentEmail(provider=VENDOR, provider_message_id=found.strip("<>"))
        return None


def messages_form(email: OutgoingEmail, sender: str) -> dict[str, str]:
    """The /messages form fields for one email."""
    form = {
        "from": sender,
        "to": email.to,
        "subject": email.subject,
        "text": email.text,
        "h:Message-Id": email.message_id,
        f"h:{KEY_HEADER}": email.idempotency_key,
        f"v:{VARIABLE}": email.idempotency_key,
        **{f"h:{name}": value for name, value in email.headers.items()},
    }
    if email.html is not None:
        form["html"] = email.html
    return form


def mailgun_error_message(body: Any) -> str | None:
    """Mailgun's error message."""
    message = body.get("message")
    return str(message) if message else None
