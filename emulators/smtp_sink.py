"""A local SMTP server that keeps every message it receives, duplicates included.

The local cloud's email provider is SMTP pointed at this sink (CONTROLROOM_SMTP_HOST/PORT).
It accepts any sender and recipient, answers 250 to every message, and stores each one as a
JSON file in its folder (written atomically: a reader never sees half a message) and in
memory. Nothing is deduplicated on purpose: a test proves exactly-once by counting messages
per Message-ID (`count_by_message_id`), which a deduplicating sink would hide.

From Python (one process):

    with SmtpSink(folder) as sink:              # 127.0.0.1, a free port
        ... send to sink.host, sink.port ...
        sink.wait_for_count(3, timeout_s=5)
        assert max(sink.count_by_message_id().values()) == 1

As a process (the local cloud), read back through the folder from any other process:

    python -m emulators.smtp_sink --port 2525 --dir .controlroom/mailbox
    Mailbox(".controlroom/mailbox").count_by_message_id()

A login is accepted only when the sink was given --username/--password (AUTH PLAIN/LOGIN
without TLS: it is local); otherwise the sink offers no AUTH and takes mail without one.
The sink speaks no STARTTLS.
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import BaseModel, ConfigDict

from emulators.processes import free_port

KEY_HEADER = "X-Controlroom-Key"
SERVER_NAME = "controlroom-smtp-sink"


class ReceivedMessage(BaseModel):
    """One message as the sink received it: the envelope, a few headers, the raw text."""

    model_config = ConfigDict(frozen=True)
    received_at: datetime
    mail_from: str
    rcpt_tos: list[str]
    message_id: str | None
    idempotency_key: str | None
    subject: str | None
    raw: str

    def parsed(self) -> EmailMessage:
        """The raw text parsed as an email message."""
        return message_from_string(self.raw, policy=policy.default)

    def text(self) -> str:
        """The plain-text body ("" when there is none)."""
        part = self.parsed().get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str | None:
        """The HTML body, when the message has one."""
        part = self.parsed().get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None


class _Messages:
    """Lookups over a list of received messages, shared by the sink and a mailbox folder."""

    def messages(self) -> list[ReceivedMessage]:
        """Every message received, oldest first."""
        raise NotImplementedError

    def with_message_id(self, message_id: str) -> list[ReceivedMessage]:
        """The messages carrying this Message-ID (angle brackets optional), duplicates included."""
        wanted = _bracketed(message_id)
        return [m for m in self.messages() if m.message_id == wanted]

    def count_by_message_id(self) -> Counter[str]:
        """How many times each Message-ID arrived (messages without one are not counted)."""
        return Counter(m.message_id for m in self.messages() if m.message_id is not None)

    def wait_for_count(self, count: int, timeout_s: float) -> list[ReceivedMessage]:
        """The messages once at least `count` have arrived; TimeoutError at the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.messages()
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(found)} of {count} messages after {timeout_s}s")
            time.sleep(0.02)


class Mailbox(_Messages):
    """The messages a sink (in any process) stored in a folder."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def messages(self) -> list[ReceivedMessage]:
        """Every stored message, oldest first."""
        if not self.folder.is_dir():
            return []
        return [
            ReceivedMessage.model_validate_json(path.read_text())
            for path in sorted(self.folder.glob("*.json"))
        ]


class SmtpSink(_Messages):
    """An SMTP server on 127.0.0.1 in a background thread; a context manager."""

    def __init__(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("a sink login needs both a username and a password")
        self.folder = Path(folder) if folder is not None else None
        self.host = host
        self.port = port or free_port()
        self._login = (username, password) if username is not None else None
        self._received: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        """Listen; returns once the server answers."""
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"server_hostname": SERVER_NAME}
        if self._login is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (what was stored stays)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> list[ReceivedMessage]:
        """Every message this sink received since it was created, oldest first."""
        with self._lock:
            return list(self._received)

    def clear(self) -> None:
        """Forget the messages in memory and delete the stored files."""
        with self._lock:
            self._received.clear()
            if self.folder is not None:
                for path in self.folder.glob("*.json"):
                    path.unlink(missing_ok=True)

    def keep(self, envelope: Envelope) -> None:
        """Store one received message in memory and, when the sink has a folder, on disk."""
        raw_bytes = envelope.original_content or envelope.content or b""
        raw = (
            raw_bytes.decode("utf-8", errors="replace")
            if isinstance(raw_bytes, bytes)
            else raw_bytes
        )
        headers = message_from_string(raw, policy=policy.default)
        received = ReceivedMessage(
            received_at=datetime.now(UTC),
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            message_id=_header(headers.get("Message-ID")),
            idempotency_key=_header(headers.get(KEY_HEADER)),
            subject=_header(headers.get("Subject")),
            raw=raw,
        )
        with self._lock:
            if self.folder is not None:
                name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
                partial = self.folder / f"{name}.tmp"
                partial.write_text(received.model_dump_json())
                os.replace(partial, self.folder / f"{name}.json")
            self._received.append(received)

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self._login is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self._login
        )
        return AuthResult(success=ok, handled=False)


class _Handler:
    """aiosmtpd's handler: every message is kept and answered 250."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._sink.keep(envelope)
        return "250 Message accepted for delivery"


def smtp_answers(host: str, port: int) -> Callable[[], bool]:
    """A readiness check: the server at host:port greets and answers NOOP."""

    def check() -> bool:
        try:
            with smtplib.SMTP(host, port, timeout=1.0) as smtp:
                return smtp.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    return check


def _header(value: object) -> str | None:
    return str(value).strip() if value is not None else None


def _bracketed(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sink until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--dir", required=True, type=Path, help="folder for the messages")
    parser.add_argument("--username")
    parser.add_argument("--password")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    sink = SmtpSink(
        args.dir,
        host=args.host,
        port=args.port or None,
        username=args.username,
        password=args.password,
    ).start()
    print(f"smtp sink on {sink.host}:{sink.port}, messages in {args.dir}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
