"""The SMTP sender against the real local sink (aiosmtpd in a thread on loopback).

A second, scripted aiosmtpd server answers with the SMTP replies under test (4xx, 5xx), so
each error mapping is checked against what smtplib really raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from emulators.processes import free_port
from emulators.smtp_sink import Mailbox, SmtpSink
from shared.email import EmailNotAcceptedError, OutgoingEmail, SentEmail, idempotency_key
from shared.email.smtp import SmtpEmailSender
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError

SENDER = "Shop <hello@shop.example>"
FAST = HttpPolicy(timeout_s=5, max_attempts=3, backoff_s=0)


def email(customer: str = "cus_0042") -> OutgoingEmail:
    return OutgoingEmail(
        to="Ana Díaz <ana.diaz@example.com>",
        subject="We miss you, Ana",
        text="Come back for 20% off.",
        html="<p>Come back for 20% off.</p>",
        idempotency_key=idempotency_key("run-2026-11-16", customer),
    )


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "mailbox") as running:
        yield running


def smtp(port: int, **options: object) -> tuple[SmtpEmailSender, list[float]]:
    waits: list[float] = []
    sender = SmtpEmailSender(
        SENDER,
        host="127.0.0.1",
        port=port,
        policy=FAST,
        sleep=waits.append,
        **options,  # type: ignore[arg-type]
    )
    return sender, waits


def test_an_email_reaches_the_sink_with_its_envelope_headers_and_bodies(sink: SmtpSink) -> None:
    sender, _ = smtp(sink.port)
    outgoing = email()

    sent = sender.send(outgoing)

    assert sent == SentEmail(provider="smtp", provider_message_id=outgoing.message_id)
    (received,) = sink.messages()
    assert received.mail_from == "hello@shop.example"
    assert received.rcpt_tos == ["ana.diaz@example.com"]
    assert received.message_id == outgoing.message_id
    assert received.idempotency_key == outgoing.idempotency_key
    assert received.subject == "We miss you, Ana"
    assert received.parsed()["To"] == "Ana Díaz <ana.diaz@example.com>"
    assert received.text().strip() == "Come back for 20% off."
    assert received.html() is not None and "<p>Come back" in (received.html() or "")


def test_the_sink_keeps_duplicates_so_they_can_be_counted(sink: SmtpSink) -> None:
    sender, _ = smtp(sink.port)
    first, second = email("cus_1"), email("cus_2")

    sender.send(first)
    sender.send(first)
    sender.send(second)

    assert sink.count_by_message_id() == {first.message_id: 2, second.message_id: 1}
    assert len(sink.with_message_id(first.message_id)) == 2
    assert len(sink.with_message_id(first.message_id.strip("<>"))) == 2
    assert sender.find_sent(first.idempotency_key) is None  # SMTP cannot be asked


def test_a_mailbox_folder_reads_what_the_sink_stored(sink: SmtpSink) -> None:
    sender, _ = smtp(sink.port)
    sender.send(email("cus_1"))
    sender.send(email("cus_1"))
    assert sink.folder is not None

    mailbox = Mailbox(sink.folder)

    assert mailbox.messages() == sink.messages()
    assert mailbox.count_by_message_id() == sink.count_by_message_id()
    assert list(sink.folder.glob("*.tmp")) == []
    sink.clear()
    assert mailbox.messages() == [] and sink.messages() == []


def test_waiting_for_messages_has_a_deadline(sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError, match="0 of 1 messages"):
        sink.wait_for_count(1, timeout_s=0.1)


def test_a_login_is_sent_when_configured(tmp_path: Path) -> None:
    with SmtpSink(tmp_path, username="mailer", password="s3cret") as sink:
        sender, _ = smtp(sink.port, username="mailer", password="s3cret")
        sender.send(email())
        assert len(sink.messages()) == 1

        wrong, waits = smtp(sink.port, username="mailer", password="wrong")
        with pytest.raises(VendorPermanentError, match="535") as caught:
            wrong.send(email())
        assert caught.value.status == 535
        assert waits == []
        assert len(sink.messages()) == 1


def test_a_login_the_server_does_not_offer_is_a_configuration_error(sink: SmtpSink) -> None:
    sender, waits = smtp(sink.port, username="mailer", password="s3cret")

    with pytest.raises(VendorPermanentError, match="AUTH"):
        sender.send(email())
    assert waits == [] and sink.messages() == []


def test_starttls_the_server_does_not_offer_is_a_configuration_error(sink: SmtpSink) -> None:
    sender, _ = smtp(sink.port, starttls=True)

    with pytest.raises(VendorPermanentError, match="STARTTLS"):
        sender.send(email())
    assert sink.messages() == []


def test_nobody_listening_is_not_accepted_and_retried_in_process() -> None:
    sender, waits = smtp(free_port())

    with pytest.raises(EmailNotAcceptedError, match="could not connect"):
        sender.send(email())
    assert waits == [0.0, 0.0]


class ScriptedServer:
    """An SMTP server whose RCPT and DATA replies come from a script, then default to 250."""

    def __init__(self, rcpt: list[str] | None = None, data: list[str] | None = None) -> None:
        self.rcpt_replies = list(rcpt or [])
        self.data_replies = list(data or [])
        self.delivered: list[Envelope] = []
        self.attempts = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.attempts += 1
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        self.delivered.append(envelope)
        return "250 OK: queued"


@pytest.fixture
def scripted() -> Iterator[tuple[ScriptedServer, int]]:
    script = ScriptedServer()
    port = free_port()
    controller = Controller(script, hostname="127.0.0.1", port=port, server_hostname="scripted")
    controller.start()
    try:
        yield script, port
    finally:
        controller.stop()


def test_a_4xx_recipient_refusal_is_retried_until_taken(
    scripted: tuple[ScriptedServer, int],
) -> None:
    script, port = scripted
    script.rcpt_replies = ["451 4.7.1 Greylisted, try again later"]
    sender, waits = smtp(port)

    sender.send(email())

    assert script.attempts == 2
    assert len(script.delivered) == 1
    assert waits == [0.0]


def test_a_4xx_after_data_is_retried_since_nothing_was_taken(
    scripted: tuple[ScriptedServer, int],
) -> None:
    script, port = scripted
    script.data_replies = ["452 4.3.1 Insufficient system storage"] * 3
    sender, _ = smtp(port)

    with pytest.raises(EmailNotAcceptedError, match="452") as caught:
        sender.send(email())
    assert caught.value.status == 452
    assert script.delivered == []


@pytest.mark.parametrize(
    ("rcpt", "data", "code"),
    [
        (["550 5.1.1 No such user"], [], 550),
        ([], ["554 5.7.1 Message rejected as spam"], 554),
    ],
)
def test_a_5xx_is_permanent_and_not_retried(
    scripted: tuple[ScriptedServer, int], rcpt: list[str], data: list[str], code: int
) -> None:
    script, port = scripted
    script.rcpt_replies, script.data_replies = rcpt, data
    sender, waits = smtp(port)

    with pytest.raises(VendorPermanentError, match=str(code)) as caught:
        sender.send(email())
    assert caught.value.status == code
    assert "ana.diaz" not in str(caught.value)  # no address in what reaches logs
    assert waits == [] and script.delivered == []


def test_the_local_sink_can_be_asked_whether_a_message_arrived(sink: SmtpSink) -> None:
    assert sink.folder is not None
    sender = SmtpEmailSender(
        "Shop <shop@example.com>", host=sink.host, port=sink.port, received_dir=str(sink.folder)
    )
    sent = sender.send(email("cus_7"))

    assert sender.find_sent(email("cus_7").idempotency_key) == sent
    assert sender.find_sent(email("cus_8").idempotency_key) is None


def test_a_real_server_cannot_be_asked(sink: SmtpSink) -> None:
    sender, _ = smtp(sink.port)
    sender.send(email("cus_7"))

    assert sender.find_sent(email("cus_7").idempotency_key) is None
