"""A win-back email across a crash between "sent" and "recorded": exactly one email."""

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
from shared.email.smtp import SmtpEmailSender
from shared.llm.offline import OfflineLLM

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
EMAIL = {"customer_id": "cus_7", "to": "ana@example.com", "name": "Ana Diaz"}
EMAIL |= {"subject": "We miss you", "body": "Come back"}


def _context(store: FirestoreStore, sender: SmtpEmailSender) -> StepContext:
    return StepContext(
        data=None,  # type: ignore[arg-type]
        llm=OfflineLLM,
        settings=resolve_agent_settings,
        store=store,
        email=lambda: sender,
        clock=lambda: NOW,
        on_step=lambda step, detail: None,
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
