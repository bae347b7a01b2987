"""SMTP: one connection per email, with STARTTLS and AUTH LOGIN/PLAIN when configured.

The message is the MIME form of `shared.email.message.to_mime`: our Message-ID
`<key@controlroom>` and the header X-Controlroom-Key. In the local cloud it goes to the SMTP
sink (`emulators.smtp_sink`), which keeps every message it receives, duplicates included.

`find_sent` returns None on a real server: SMTP has no way to ask a server what it already
took. The guarantee across a crash between the send and its record is therefore
at-least-once: the redelivery sends again, with the same Message-ID, which lets a mail client
or a test tell the copies apart from two different emails. The local cloud's sink is the one
server that can be asked: it keeps each received message as a JSON file in a folder, and with
`received_dir` set (CONTROLROOM_SMTP_RECEIVED_DIR) `find_sent` looks there, the way the
SendGrid and Mailgun senders ask their providers' APIs.

How failures map (an SMTP server takes a message only with its 250 after DATA):

    refused connection, connect timeout, a 4xx before or after DATA,
    a 4xx on every recipient, a dropped connection before MAIL   EmailNotAcceptedError
    a connection lost or timed out during the transaction        VendorRetryableError
    a 5xx (bad login, unknown recipient, rejected content),
    STARTTLS or AUTH not offered, an untrusted certificate       VendorPermanentError
    (a TLS handshake failing otherwise counts as not accepted)

EmailNotAcceptedError is retried in process (HttpPolicy.max_attempts); the others propagate.
"""

from __future__ import annotations

import contextlib
import json
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from shared.email._retry import retry_not_accepted
from shared.email.errors import EmailNotAcceptedError
from shared.email.message import OutgoingEmail, SentEmail, parse_mailbox, to_mime
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError

VENDOR = "smtp"


class SmtpEmailSender:
    """The EmailSender port on an SMTP server."""

    provider = VENDOR

    def __init__(
        self,
        sender: str,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        received_dir: str | None = None,
    ) -> None:
        parse_mailbox(sender)
        if (username is None) != (password is None):
            raise ValueError("an SMTP login needs both a username and a password")
        self.sender = sender
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self._ssl_context = ssl_context
        self.policy = policy or HttpPolicy()
        self._sleep = sleep
        self.received_dir = Path(received_dir) if received_dir else None

    def send(self, email: OutgoingEmail) -> SentEmail:
        """Deliver the email in one SMTP session; retried only while the server refuses it."""
        message = to_mime(email, self.sender)
        retry_not_accepted(lambda: self._deliver(message), self.policy, self._sleep)
        return SentEmail(provider=VENDOR, provider_message_id=email.message_id)

    def find_sent(self, idempotency_key: str) -> SentEmail | None:
        """The email the local sink received with this key; None for any other server."""
        if self.received_dir is None or not self.received_dir.is_dir():
            return None
        for path in self.received_dir.glob("*.json"):
            try:
                received = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # removed or replaced while listing
            if received.get("idempotency_key") == idempotency_key:
                return SentEmail(
                    provider=VENDOR, provider_message_id=str(received.get("message_id"))
                )
        return None

    def _deliver(self, message: EmailMessage) -> None:
        smtp = self._open()
        try:
            try:
                smtp.send_message(message)
            except smtplib.SMTPException as error:
                raise _mapped(error, sent_maybe=True) from error
            except OSError as error:
                raise VendorRetryableError(
                    VENDOR, f"connection lost, may have been sent: {error!r}"
                ) from error
        finally:
            # The message is either taken or refused by now: QUIT is a courtesy.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()

    def _open(self) -> smtplib.SMTP:
        """A connected session, after STARTTLS and login as configured; nothing sent yet."""
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.policy.timeout_s)
        except smtplib.SMTPException as error:
            raise _mapped(error, sent_maybe=False) from error
        except OSError as error:
            raise EmailNotAcceptedError(VENDOR, f"could not connect: {error!r}") from error
        try:
            if self.starttls:
                smtp.starttls(context=self._ssl_context or ssl.create_default_context())
            if self.username is not None and self._password is not None:
                smtp.login(self.username, self._password)
        except ssl.SSLCertVerificationError as error:
            smtp.close()
            raise VendorPermanentError(VENDOR, f"untrusted certificate: {error}") from error
        except smtplib.SMTPException as error:
            smtp.close()
            raise _mapped(error, sent_maybe=False) from error
        except OSError as error:
            smtp.close()
            raise EmailNotAcceptedError(VENDOR, f"session setup failed: {error!r}") from error
        return smtp


def _mapped(error: smtplib.SMTPException, *, sent_maybe: bool) -> Exception:
    """The controlroom error for an smtplib failure."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        # The server's replies without the addresses: errors land on timelines and in logs.
        replies = "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
        message = f"recipient refused: {replies}"
        if codes and all(400 <= code < 500 for code in codes):
            return EmailNotAcceptedError(VENDOR, message, status=codes[0])
        return VendorPermanentError(VENDOR, message, status=codes[0] if codes else None)
    if isinstance(error, smtplib.SMTPResponseException):
        message = f"{error.smtp_code} {_text(error.smtp_error)}"
        if 400 <= error.smtp_code < 500:
            return EmailNotAcceptedError(VENDOR, message, status=error.smtp_code)
        if 500 <= error.smtp_code < 600:
            return VendorPermanentError(VENDOR, message, status=error.smtp_code)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        if sent_maybe:
            return VendorRetryableError(VENDOR, f"disconnected, may have been sent: {error}")
        return EmailNotAcceptedError(VENDOR, f"disconnected before sending: {error}")
    if sent_maybe:
        return VendorRetryableError(VENDOR, f"{type(error).__name__}: {error}")
    # Before the transaction: STARTTLS or AUTH not offered, no usable AUTH mechanism.
    return VendorPermanentError(VENDOR, f"{type(error).__name__}: {error}")


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
