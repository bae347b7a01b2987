"""SendGrid: v3 Mail Send, and the Email Activity API to find an email that already left.

API: https://api.sendgrid.com, an API key as `Authorization: Bearer`; it needs the mail.send
scope, and Email Activity read access for `find_sent` (the Email Activity API is a paid
add-on of the account, "additional email activity history").

    POST /v3/mail/send                                  (Content-Type: application/json)
    {"personalizations": [{"to": [{"email": "ana@example.com", "name": "Ana Diaz"}]}],
     "from": {"email": "hello@shop.example", "name": "Shop"},
     "subject": "...",
     "content": [{"type": "text/plain", "value": "..."}, {"type": "text/html", "value": "..."}],
     "headers": {"Message-ID": "<key@controlroom>", "X-Controlroom-Key": "<key>",
                 "List-Unsubscribe": "<url>", ...the email's other headers},
     "custom_args": {"controlroom_key": "<key>"}}
    -> 202 Accepted, no body, and the header X-Message-Id (the id of this request; SendGrid's
       per-recipient msg_id later starts with it)

    GET /v3/messages?limit=10&query=unique_args['controlroom_key']="<key>"
    -> {"messages": [{"msg_id", "from_email", "subject", "to_email", "status",
                      "opens_count", "clicks_count", "last_event_time"}, ...]}

v3 custom_args are what the Email Activity query language calls unique_args. Any message
found there (whatever its status, bounced included) left controlroom: `find_sent` returns it.
What it does not give: a message appears in Email Activity some seconds to minutes after the
202, so a redelivery inside that window finds nothing and sends again (at-least-once there).
An account without the add-on answers the lookup with an error (VendorPermanentError): build
the sender with `activity_lookup=False` to send without it, at-least-once across a crash.

Errors are `{"errors": [{"message", "field", "help"}]}`: 401/403/400 VendorPermanentError,
429 EmailNotAcceptedError (retried in process), 5xx VendorRetryableError (not retried: the
message may have been accepted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.email._http import HttpEmailSender
from shared.email.message import KEY_HEADER, OutgoingEmail, SentEmail, parse_mailbox
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError

SENDGRID_API = "https://api.sendgrid.com"
VENDOR = "sendgrid"
CUSTOM_ARG = "controlroom_key"
LOOKUP_LIMIT = 10


class _ActivityMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    msg_id: str
    status: str | None = None


class _Activity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    messages: list[_ActivityMessage]


class SendGridEmailSender(HttpEmailSender):
    """The EmailSender port on SendGrid's v3 API."""

    provider = VENDOR

    def __init__(
        self,
        api_key: str,
        sender: str,
        *,
        base_url: str = SENDGRID_API,
        client: httpx.Client | None = None,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        activity_lookup: bool = True,
    ) -> None:
        self.activity_lookup = activity_lookup
        super().__init__(
            sender,
            base_url=base_url,
            lookup_base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            error_message=sendgrid_error_message,
            client=client,
            policy=policy,
            sleep=sleep,
        )

    def send(self, email: OutgoingEmail) -> SentEmail:
        """POST the email to /v3/mail/send; retried only on a 429 or a refused connection."""
        response = self._post("/v3/mail/send", json=mail_send_payload(email, self.sender))
        # Accepted: a missing id must not turn a sent email into an error.
        message_id = response.headers.get("X-Message-Id") or email.message_id
        return SentEmail(provider=VENDOR, provider_message_id=message_id)

    def find_sent(self, idempotency_key: str) -> SentEmail | None:
        """The message carrying this key in Email Activity, or None (always None if disabled)."""
        if not self.activity_lookup:
            return None
        query = f"unique_args['{CUSTOM_ARG}']=\"{idempotency_key}\""
        body = self.http.request_json(
            "GET", "/v3/messages", params=[("limit", str(LOOKUP_LIMIT)), ("query", query)]
        )
        try:
            activity = _Activity.model_validate(body)
        except ValidationError as error:
            raise VendorPermanentError(
                VENDOR, f"unexpected Email Activity shape: {error}"
            ) from error
        if not activity.messages:
            return None
        return SentEmail(provider=VENDOR, provider_message_id=activity.messages[0].msg_id)


def mail_send_payload(email: OutgoingEmail, sender: str) -> dict[str, Any]:
    """The /v3/mail/send body for one email."""
    content = [{"type": "text/plain", "value": email.text}]
    if email.html is not None:
        content.append({"type": "text/html", "value": email.html})
    return {
        "personalizations": [{"to": [_party(email.to)]}],
        "from": _party(sender),
        "subject": email.subject,
        "content": content,
        "headers": {
            **email.headers,
            "Message-ID": email.message_id,
            KEY_HEADER: email.idempotency_key,
        },
        "custom_args": {CUSTOM_ARG: email.idempotency_key},
    }


def sendgrid_error_message(body: Any) -> str | None:
    """SendGrid's error messages, with the field each one names."""
    errors = body.get("errors") or []
    parts = [
        f"{e.get('message')} ({e['field']})" if e.get("field") else str(e.get("message"))
        for e in errors
        if isinstance(e, dict)
    ]
    return "; ".join(parts) or None


def _party(value: str) -> dict[str, str]:
    address = parse_mailbox(value)
    party = {"email": address.addr_spec}
    if address.display_name:
        party["name"] = address.display_name
    return party
