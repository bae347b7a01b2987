"""The EmailSender port: send one email, and ask whether an email with a key already left.

How a caller gets each email out once (the win-back send step):

    record the intent (keyed by run and customer)
    sent = sender.find_sent(key)          # after a crash between "sent" and "recorded"
    if sent is None:
        sent = sender.send(email)         # email.idempotency_key == key
    record sent.provider_message_id, mark done

What each implementation gives when the same email is asked for twice:

    provider   find_sent looks in                          a repeat after a crash
    smtp       nothing (SMTP has no lookup): None           at-least-once: may send again
    ses        nothing (SES has no lookup by tag): None      at-least-once: may send again
    sendgrid   Email Activity API, by custom_args key        no second email once the first
                                                            is visible there (seconds to
                                                            minutes); sooner, at-least-once
    mailgun    Events API, by the Message-ID we set          no second email once the
                                                            accepted event is visible

None of them closes the window of two deliveries sending at the same moment; the caller's
Firestore record (created once) is what serialises sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shared.email.message import OutgoingEmail, SentEmail


class EmailSender(Protocol):
    """Sends emails through one provider."""

    provider: str

    def send(self, email: OutgoingEmail) -> SentEmail:
        """Hand the email to the provider once; raise the errors of shared.email.errors."""
        ...

    def find_sent(self, idempotency_key: str) -> SentEmail | None:
        """The email with this key if the provider shows it left, else None (also: unknown)."""
        ...


class SuppressionList(Protocol):
    """The recipients who asked for no more emails, by `shared.email.unsubscribe.address_key`."""

    def suppress(self, key: str, *, source: str, at: datetime) -> bool:
        """Add `key` (source: "link" or "one-click"); False when it was there already."""
        ...

    def suppressed_among(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` are on the list."""
        ...
