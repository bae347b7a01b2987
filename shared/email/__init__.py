"""Email out of controlroom: one port, four providers, one way to build them from settings.

    from shared.email import OutgoingEmail, idempotency_key
    from shared.wiring.email import build_email_sender

    sender = build_email_sender(settings)          # smtp | sendgrid | mailgun | ses
    key = idempotency_key(run_id, customer_id)
    sent = sender.find_sent(key) or sender.send(OutgoingEmail(..., idempotency_key=key))

Modules: `message` (OutgoingEmail, SentEmail, the MIME form), `port` (EmailSender, and what
each provider guarantees on a repeat), `errors`, and one module per provider
(`smtp`, `sendgrid`, `mailgun`, `ses`), imported only when chosen.
"""

from shared.email.errors import EmailConfigError, EmailNotAcceptedError
from shared.email.message import OutgoingEmail, SentEmail, idempotency_key, message_id_of
from shared.email.ports import EmailSender

__all__ = [
    "EmailConfigError",
    "EmailNotAcceptedError",
    "EmailSender",
    "OutgoingEmail",
    "SentEmail",
    "idempotency_key",
    "message_id_of",
]
