"""Platform send limits hold across processes: four instances share send_slots/{platform}.

Each process is a fresh Python sending as fast as its limiter lets it, as four instances of
the support agent would. Together they must stay within one limit (the burst at once, then
one send per interval) and every send must go out: a caller over the limit waits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import Emulators

pytestmark = pytest.mark.integration

PROCESSES = 4
SENDS_EACH = 10
PER_MINUTE = 240.0  # after the burst, one send every 60/236 s
BURST = 4
INTERVAL_S = 60.0 / (PER_MINUTE - BURST)  # what the burst leaves of the minute
# A send goes out after its slot; a process may record it this much later on a busy machine.
LATE_S = 0.5

SENDER = """
import json, sys, time
from shared.adapters.firestore_send_slots import FirestoreSendSlots
from shared.support.ratelimit import OutboundLimiter, RateLimit

project, start_at, sends, per_minute, burst = sys.argv[1:6]
limiter = OutboundLimiter(
    {"tiktok": RateLimit(per_minute=float(per_minute), burst=int(burst))},
    max_wait_s=60,
    shared=FirestoreSendSlots(project),
)
limiter.acquire("linkedin")  # unlimited here: connects without taking a slot
time.sleep(max(0.0, float(start_at) - time.time()))
sent = []
for _ in range(int(sends)):
    limiter.acquire("tiktok")
    sent.append(time.time())
print(json.dumps(sent))
"""


def test_four_processes_share_one_limit_and_every_send_goes_out(
    clean_emulators: Emulators,
) -> None:
    start_at = time.time() + 5  # every process imported and connected by then (a late one
    # only joins the queue late)
    argv = [sys.executable, "-c", SENDER, clean_emulators.project, str(start_at)]
    args = [str(SENDS_EACH), str(PER_MINUTE), str(BURST)]
    senders = [
        subprocess.Popen([*argv, *args], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        for _ in range(PROCESSES)
    ]
    outputs = [sender.communicate(timeout=120)[0] for sender in senders]

    assert [sender.returncode for sender in senders] == [0] * PROCESSES
    sent = sorted(t for output in outputs for t in json.loads(output))
    assert len(sent) == PROCESSES * SENDS_EACH  # nothing dropped
    # Sends i and j (j - i >= burst) are at least j - i - burst intervals apart: at most one
    # send per interval plus the burst, across all four processes.
    for i in range(len(sent)):
        for j in range(i + BURST, len(sent)):
            least = (j - i - BURST) * INTERVAL_S - LATE_S
            assert sent[j] - sent[i] >= least, f"sends {i}..{j} within {sent[j] - sent[i]:.2f}s"
    # Each process alone would have taken about 1.5 s; together they queue for about 9 s.
    assert sent[-1] - sent[0] >= (len(sent) - BURST - 1) * INTERVAL_S - LATE_S
