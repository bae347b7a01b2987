"""Platform send limits across instances: four processes replying to TikTok for 60 s.

Four fresh Python processes (four instances of the support function) send to TikTok as fast
as their limiter lets them, at TikTok's limit in `shared.support.ratelimit.DEFAULT_LIMITS`,
for `SEND_S` seconds. Ours share the limit through Firestore (`FirestoreSendSlots`, the
deployed default); the baseline is the same four processes each with its own in-process
bucket, as every instance had before. The figure is the most sends in any window of the
limit's length (60 s, or the whole run in quick mode), against what the limit allows in that
window (the burst plus the refill). The check fails when ours exceed it or when a send was
refused instead of delayed (each sender waits up to `MAX_WAIT_S` for its slot and records a
refusal as dropped; Pub/Sub would redeliver it, but here it counts as a failure).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.local import LocalServers
from bench.measure import BenchReport, CaseResult, percentile, ratio
from emulators.functions import REPO_ROOT
from shared.support.ratelimit import DEFAULT_LIMITS

SUITE = "send-limits"
PLATFORM = "tiktok"
PROCESSES = 4
SEND_S = 60.0
QUICK_SEND_S = 10.0
WINDOW_S = 60.0
MAX_WAIT_S = 60.0
START_DELAY_S = 5.0  # every process imported and connected before the clock starts
EXIT_TIMEOUT_S = SEND_S + MAX_WAIT_S + 60.0

SENDER = """
import json, sys, time
from shared.support.ratelimit import DEFAULT_LIMITS, OutboundLimiter, OutboundRateLimited

project, platform, start_at, send_s, max_wait_s, shared = sys.argv[1:7]
slots = None
if shared == "1":
    from shared.adapters.firestore_send_slots import FirestoreSendSlots

    slots = FirestoreSendSlots(project)
    list(slots.client.collection("send_slots").limit(1).stream())  # connected before the start
limiter = OutboundLimiter(DEFAULT_LIMITS, max_wait_s=float(max_wait_s), shared=slots)
time.sleep(max(0.0, float(start_at) - time.time()))
stop_at = float(start_at) + float(send_s)
sent, waits, dropped = [], [], 0
while time.time() < stop_at:
    asked = time.time()
    try:
        limiter.acquire(platform)
    except OutboundRateLimited:
        dropped += 1
        continue
    sent.append(time.time())
    waits.append(sent[-1] - asked)
print(json.dumps({"sent": sent, "waits": waits, "dropped": dropped}))
"""


def most_in_window(times: list[float], window_s: float) -> int:
    """The most of `times` that fall within any `window_s` seconds (a sliding window)."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= window_s:
            first += 1
        most = max(most, last - first + 1)
    return most


def _send(servers: LocalServers, send_s: float, *, shared: bool) -> dict[str, list[float] | int]:
    """Run the four senders; their sends, waits and refusals together."""
    start_at = time.time() + START_DELAY_S
    argv = [
        sys.executable,
        "-c",
        SENDER,
        servers.project,
        PLATFORM,
        str(start_at),
        str(send_s),
        str(MAX_WAIT_S),
        "1" if shared else "0",
    ]
    env = {**os.environ, **servers.emulator_env}
    senders = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
        for _ in range(PROCESSES)
    ]
    outputs = [sender.communicate(timeout=EXIT_TIMEOUT_S)[0] for sender in senders]
    failed = [sender.returncode for sender in senders if sender.returncode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} sender(s) exited with {failed}")
    results = [json.loads(output) for output in outputs]
    return {
        "sent": [t - start_at for r in results for t in r["sent"]],
        "waits": [w for r in results for w in r["waits"]],
        "dropped": sum(r["dropped"] for r in results),
    }


def run_suite(servers: LocalServers, *, quick: bool) -> BenchReport:
    """Four processes sending for a minute, sharing the limit, against four that do not."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    servers.reset()
    send_s = QUICK_SEND_S if quick else SEND_S
    window_s = min(WINDOW_S, send_s)
    limit = DEFAULT_LIMITS[PLATFORM]
    allowed = limit.capacity + limit.refill_per_minute * window_s / 60.0
    ours = _send(servers, send_s, shared=True)
    baseline = _send(servers, send_s, shared=False)
    servers.reset()
    ours_most = most_in_window(ours["sent"], window_s)  # type: ignore[arg-type]
    base_most = most_in_window(baseline["sent"], window_s)  # type: ignore[arg-type]
    waits: list[float] = ours["waits"]  # type: ignore[assignment]
    within = ours_most <= allowed and ours["dropped"] == 0
    share = ratio(ours_most, allowed)
    case = CaseResult(
        suite=SUITE,
        case=f"{PROCESSES} procs -> {PLATFORM}",
        baseline=f"limit {limit.per_minute:g}/min",
        figure=f"most sends in {window_s:g} s",
        ours_value=ours_most,
        baseline_value=allowed,
        ratio=None if share is None else round(share, 2),
        goal="ratio <= 1",
        goal_met=share is not None and share <= 1,
        agreement=(
            f"within the limit, {ours['dropped']} dropped"
            if within
            else f"over: {ours_most} > {allowed:g}, {ours['dropped']} dropped"
        ),
        agreement_ok=within,
        notes=(
            f"{len(ours['sent'])} sent in {send_s:g} s; wait p50 "  # type: ignore[arg-type]
            f"{percentile(waits, 50):.2f} s, p95 {percentile(waits, 95):.2f} s; "
            f"per-process buckets let {base_most} through"
        ),
        details={
            "send_s": send_s,
            "window_s": window_s,
            "allowed": allowed,
            "ours_sent": len(ours["sent"]),  # type: ignore[arg-type]
            "ours_dropped": ours["dropped"],
            "baseline_most": base_most,
            "baseline_sent": len(baseline["sent"]),  # type: ignore[arg-type]
            "wait_p95_s": round(percentile(waits, 95), 3),
        },
    )
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={"processes": PROCESSES, "platform": PLATFORM, "send_s": send_s},
        environment={},
        cases=(case,),
    )
