"""One outgoing email, what a provider says about it once sent, and its MIME form.

An `OutgoingEmail` carries an `idempotency_key`, deterministic per effect (per run and
customer for a win-back email; build it with `idempotency_key`). The key travels three ways:
- as the RFC 5322 Message-ID `<key@controlroom>` (kept by SMTP, SendGrid and Mailgun; SES
  overrides Message-ID with its own);
- as the header `X-Controlroom-Key: key` (every provider keeps custom headers);
- as the provider's own per-message tag (SendGrid custom_args, Mailgun `v:` variables, SES
  EmailTags), which is what `EmailSender.find_sent` searches where the provider can search.

Keys are limited to ASCII letters, digits, "_" and "-" (at most 200): the intersection of
what an RFC 5322 Message-ID's left part, a SendGrid custom argument and an SES tag value
accept, so one key needs no escaping anywhere.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

MESSAGE_ID_DOMAIN = "controlroom"
KEY_HEADER = "X-Controlroom-Key"
KEY_MAX_LENGTH = 200

IdempotencyKey = Annotated[
    str, Field(min_length=1, max_length=KEY_MAX_LENGTH, pattern=r"^[A-Za-z0-9_-]+$")
]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,75}")  # RFC 5322 field names, plain
# Set by us from the other fields; a caller's copy would contradict them.
_OWN_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", KEY_HEADER.lower()}
)
_READABLE_MAX = 120


class OutgoingEmail(BaseModel):
    """One email to one recipient, with the key that makes sending it idempotent."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    to: str = Field(description='an address, optionally with a name: "Ana Diaz <ana@example.com>"')
    subject: str = Field(min_length=1, max_length=998)
    text: str = Field(description="the plain-text body (always sent)")
    html: str | None = Field(default=None, description="an HTML alternative, when given")
    idempotency_key: IdempotencyKey
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="more header fields, e.g. List-Unsubscribe (every provider passes them)",
    )

    @field_validator("to")
    @classmethod
    def _one_address(cls, value: str) -> str:
        parse_mailbox(value)
        return value

    @field_validator("headers")
    @classmethod
    def _extra_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, field in value.items():
            if not _HEADER_NAME.fullmatch(name) or name.lower() in _OWN_HEADERS:
                raise ValueError(f"header {name[:40]!r} is not one a caller may set")
            if "\r" in field or "\n" in field:
                raise ValueError(f"header {name} is one line")
        return value

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("a subject is one line")
        return value

    @property
    def message_id(self) -> str:
        """The RFC 5322 Message-ID derived from the key, angle brackets included."""
        return f"<{self.idempotency_key}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class SentEmail:
    """An email a provider accepted: who, and the provider's own id for it."""

    provider: str
    provider_message_id: str


def idempotency_key(*parts: str) -> str:
    """A deterministic, provider-safe key for the effect named by `parts` (run id, customer id).

    Readable (the parts, made safe and shortened) and unique (a hash of the exact parts).
    """
    if not parts:
        raise ValueError("an idempotency key needs at least one part")
    readable = "-".join(filter(None, (_UNSAFE.sub("_", p).strip("_") for p in parts)))
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
    return f"{readable[:_READABLE_MAX]}-{digest}" if readable else digest


def message_id_of(key: str) -> str:
    """The Message-ID that an email with this idempotency key carries."""
    return f"<{key}@{MESSAGE_ID_DOMAIN}>"


def parse_mailbox(value: str) -> Address:
    """One "Name <addr@domain>" or "addr@domain" as an Address; ValueError otherwise."""
    pairs = getaddresses([value])
    if len(pairs) != 1 or "@" not in pairs[0][1]:
        raise ValueError(f"not one email address: {value[:80]!r}")
    name, address = pairs[0]
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        raise ValueError(f"not one email address: {value[:80]!r}")
    return Address(display_name=name, username=local, domain=domain)


def to_mime(email: OutgoingEmail, sender: str) -> EmailMessage:
    """The email as a MIME message from `sender`: text, plus HTML as an alternative if any."""
    message = EmailMessage()
    message["From"] = parse_mailbox(sender)
    message["To"] = parse_mailbox(email.to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = email.message_id
    message[KEY_HEADER] = email.idempotency_key
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message
