"""Emulators stop completely: no Java child outlives its gcloud wrapper, even on interruption."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from emulators.gcloud import start_firestore
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.integration


def group_members(pgid: int) -> list[str]:
    """Command names of the live processes in a process group (from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces; fields follow it.
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            members.append(name)
    return members


def test_stopping_an_emulator_stops_its_java_child(tmp_path: Path) -> None:
    emulator = start_firestore("controlroom-proc", tmp_path)
    assert emulator.process.popen is not None
    pgid = emulator.process.popen.pid
    assert "java" in group_members(pgid)

    emulator.stop()

    assert group_members(pgid) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_owner_leaves_no_emulator_behind(
    tmp_path: Path, sig: signal.Signals
) -> None:
    script = textwrap.dedent(
        f"""
        import signal, sys, time
        from pathlib import Path
        from emulators.gcloud import start_pubsub
        # Ctrl-C as in a terminal: a test session started in the background (`make test &`)
        # hands its children SIGINT ignored, and the owner would sleep through it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        emulator = start_pubsub("controlroom-proc", Path({str(tmp_path)!r}))
        print(emulator.process.popen.pid, flush=True)
        time.sleep(120)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as owner:
        assert owner.stdout is not None
        pgid = int(owner.stdout.readline())
        assert "java" in wait_for(lambda: group_members(pgid), 30, "the emulator's processes")

        owner.send_signal(sig)
        # The owner's own stop may take up to ~16 s (3 s of SIGTERM grace, then SIGKILL and
        # reaping); on a loaded machine its interpreter teardown adds to that.
        owner.wait(timeout=60)

    wait_for(
        lambda: group_members(pgid) == [], 30, f"the emulator group to be gone after {sig.name}"
    )
