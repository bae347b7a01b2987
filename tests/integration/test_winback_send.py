"""A win-back email across a crash between "sent" and "recorded": exactly one email; every
email carries its unsubscribe link and headers, and nobody who unsubscribed gets one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulators.smtp_sink import SmtpSink
from shared.adapters.firestore_store import FirestoreStore
from shared.agents.steps import StepContext
from shared.agents.winback_steps import send_email
from shared.core.agent_settings import resolve_agent_settings
from shared.core.messages import AgentTask
from shared.email import OutgoingEmail, idempotency_key
from shared.email.firestore import FirestoreSuppressions
from shared.email.smtp import SmtpEmailSender
from shared.email.unsubscribe import Mailing, address_key, token_is_valid
from shared.llm.offline import OfflineLLM

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
EMAIL = {"customer_id": "cus_7", "to": "ana@example.com", "name": "Ana Diaz"}
EMAIL |= {"subject": "We miss you", "body": "Come back"}


SECRET = b"k" * 32


def _mailing(store: FirestoreStore) -> Mailing:
    suppressions = FirestoreSuppressions(store.project_id, client=store.client)
    return Mailing(suppressions, SECRET, "https://status.shop.example", "Northwind Goods")


def _context(store: FirestoreStore, sender: SmtpEmailSender) -> StepContext:
    return StepContext(
        data=None,  # type: ignore[arg-type]
        llm=OfflineLLM,
        settings=resolve_agent_settings,
        store=store,
        email=lambda: sender,
        clock=lambda: NOW,
        on_step=lambda step, detail: None,
        mailing=lambda: _mailing(store),
    )


def test_a_send_that_crashed_before_its_record_is_found_not_repeated(
    store: FirestoreStore, tmp_path: Path
) -> None:
    task = AgentTask(
        run_id="wb-crash", task_id="send-cus_7", agent="marketing", workflow="winback",
        step="send", params={"email": EMAIL},
    )  # fmt: skip
    with SmtpSink(tmp_path / "mailbox") as sink:
        sender = SmtpEmailSender(
            "Shop <shop@example.com>", host=sink.host, port=sink.port,
            received_dir=str(sink.folder),
        )  # fmt: skip
        # The first attempt: intent recorded, email sent, then the process died.
        store.begin_effect("wb-crash", "email-cus_7", NOW)
        key = idempotency_key("wb-crash", "cus_7")
        sender.send(
            OutgoingEmail(to=EMAIL["to"], subject="We miss you", text="x", idempotency_key=key)
        )

        redelivered = send_email(task, _context(store, sender))
        duplicate = send_email(task, _context(store, sender))

        assert sink.count_by_message_id() == {f"<{key}@controlroom>": 1}
    assert redelivered.output["sent"]["provider_message_id"] == f"<{key}@controlroom>"
    assert duplicate.output == redelivered.output
    record = store.begin_effect("wb-crash", "email-cus_7", NOW)
    assert record.status == "done" and record.attempts == 2


def test_without_a_lookup_the_send_after_a_crash_is_repeated(
    store: FirestoreStore, tmp_path: Path
) -> None:
    # A real SMTP relay cannot be asked: the documented at-least-once window, shown here.
    task = AgentTask(
        run_id="wb-crash-2", task_id="send-cus_7", agent="marketing", workflow="winback",
        step="send", params={"email": EMAIL},
    )  # fmt: skip
    with SmtpSink(tmp_path / "mailbox") as sink:
        sender = SmtpEmailSender("Shop <shop@example.com>", host=sink.host, port=sink.port)
        store.begin_effect("wb-crash-2", "email-cus_7", NOW)
        key = idempotency_key("wb-crash-2", "cus_7")
        sender.send(
            OutgoingEmail(to=EMAIL["to"], subject="We miss you", text="x", idempotency_key=key)
        )

        send_email(task, _context(store, sender))

        assert sink.count_by_message_id() == {f"<{key}@controlroom>": 2}


def test_an_email_carries_its_unsubscribe_link_in_the_footer_and_the_one_click_headers(
    store: FirestoreStore, tmp_path: Path
) -> None:
    task = AgentTask(
        run_id="wb-links", task_id="send-cus_7", agent="marketing", workflow="winback",
        step="send", params={"email": EMAIL},
    )  # fmt: skip
    with SmtpSink(tmp_path / "mailbox") as sink:
        sender = SmtpEmailSender("Shop <shop@example.com>", host=sink.host, port=sink.port)

        send_email(task, _context(store, sender))

        (received,) = sink.messages()
    mime = received.parsed()
    link = mime["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://status.shop.example/unsubscribe?a=")
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    key, token = (part.split("=", 1)[1] for part in link.split("?", 1)[1].split("&"))
    assert key == address_key(EMAIL["to"]) and token_is_valid(SECRET, key, token)
    text = received.text()
    assert text.startswith("Come back") and "ordered from Northwind Goods" in text
    assert text.rstrip().endswith(link)


def test_nobody_who_unsubscribed_is_written_to_even_after_the_approval(
    store: FirestoreStore, tmp_path: Path
) -> None:
    task = AgentTask(
        run_id="wb-left", task_id="send-cus_7", agent="marketing", workflow="winback",
        step="send", params={"email": EMAIL},
    )  # fmt: skip
    suppressions = FirestoreSuppressions(store.project_id, client=store.client)
    assert suppressions.suppress(address_key("ANA@example.com"), source="link", at=NOW)
    assert not suppressions.suppress(address_key("ana@example.com"), source="link", at=NOW)
    with SmtpSink(tmp_path / "mailbox") as sink:
        sender = SmtpEmailSender("Shop <shop@example.com>", host=sink.host, port=sink.port)

        outcome = send_email(task, _context(store, sender))
        again = send_email(task, _context(store, sender))

        assert sink.messages() == []
    assert outcome.output["sent"] == {"customer_id": "cus_7", "skipped": "unsubscribed"}
    assert again.output == outcome.output
