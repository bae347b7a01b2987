"""The SMTP sink as the local cloud runs it: its own process, read back through its folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from emulators.processes import ManagedProcess, free_port
from emulators.smtp_sink import Mailbox, smtp_answers
from shared.email import OutgoingEmail, idempotency_key
from shared.email.smtp import SmtpEmailSender

pytestmark = pytest.mark.integration


def test_a_sink_process_stores_every_message_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "mailbox"
    sink = ManagedProcess(
        "smtp-sink",
        [sys.executable, "-m", "emulators.smtp_sink", "--port", str(port), "--dir", str(folder)],
        tmp_path / "smtp-sink.log",
        dict(os.environ),
    ).start()
    try:
        sink.wait_until(smtp_answers("127.0.0.1", port), timeout_s=20)
        sender = SmtpEmailSender("hello@shop.example", host="127.0.0.1", port=port)
        keys = [idempotency_key("run-1", c) for c in ("cus_1", "cus_1", "cus_2")]
        for key in keys:
            sender.send(
                OutgoingEmail(to="ana@example.com", subject="Hi", text="Hi", idempotency_key=key)
            )

        received = Mailbox(folder).wait_for_count(3, timeout_s=10)

        assert [m.idempotency_key for m in received] == keys
        assert sorted(Mailbox(folder).count_by_message_id().values()) == [1, 2]
    finally:
        sink.stop(grace_s=5)
    assert sink.popen is not None and sink.popen.returncode == 0
    assert f"smtp sink on 127.0.0.1:{port}" in sink.log_tail()
    assert not smtp_answers("127.0.0.1", port)()
