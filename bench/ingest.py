"""Webhook ingest: accepted messages per second through the real webhooks function.

Ours: functions/webhooks/main.py as its own functions-framework process on the emulators.
Every request is a signed site-chat message (POST /webhooks/generic, a new message id each
time) that the function verifies (HMAC and replay window), validates, stores in Firestore
(inbound record, user, conversation, message) and publishes to the support agent's topic
before answering. Baseline: a bare functions-framework function answering 200, with the same
server settings (the same gunicorn threads, from the webhooks function's concurrency).

Both get the same requests from the same client: `CLIENT_THREADS` threads sharing one httpx
client with as many connections, each sending its next request when the previous one is
answered. Bodies and signatures are prepared before the clock starts, and each server has
answered `WARMUP` requests first (the first request pays for lazy imports and clients).
The rate is requests answered with success (ours: `{"accepted": 1}`) per second of the
burst; the bursts of ours and the baseline alternate, and the medians are compared.
Goal: ours >= 0.5 of the bare rate. After the bursts, Firestore must hold one inbound
record per request sent to ours.

A second case measures the floor under both: the same use case
(`shared.app.ingest_webhook.ingest_support_webhook`, the same adapters: one Firestore batch
commit, one Pub/Sub publish, one update) called from the same client threads in this process,
with no HTTP server, no signature check and no function at all. The emulators run on the same
two cores as everything else, so the floor's rate against the bare function says how much of
the 0.5 goal is left for the function itself on this machine (in the cloud the store and the
broker run elsewhere).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from google.cloud import firestore

from bench.local import BARE_HTTP, LocalServers, generic_webhook
from bench.measure import BenchReport, CaseResult, percentile, ratio
from shared.core.topology import TOPOLOGY

SUITE = "ingest"
CLIENT_THREADS = 16
WARMUP = 20
FULL_REQUESTS = 1_000
QUICK_REQUESTS = 150
GOAL_RATIO = 0.5
TEXT = "Hi, my order NW-48213 has not arrived yet. Where is it?"

Prepared = tuple[bytes, dict[str, str]]
T = TypeVar("T")


@dataclass(frozen=True)
class Burst:
    """One burst of requests against one server."""

    sent: int
    succeeded: int
    seconds: float
    latencies_s: tuple[float, ...]
    failures: tuple[str, ...]  # the first few unexpected answers

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.succeeded / self.seconds if self.seconds > 0 else 0.0


def prepare_requests(count: int, tag: str) -> list[Prepared]:
    """`count` signed site-chat messages with unique ids (signed now; valid for 5 minutes)."""
    now = int(time.time())
    return [generic_webhook(f"bench-{tag}-{index:06d}", TEXT, now) for index in range(count)]


def accepted(response: httpx.Response) -> bool:
    """The webhooks function took the message (stored and published it)."""
    if response.status_code != 200:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("accepted") == 1


def run_burst(
    client: httpx.Client, url: str, requests: Sequence[Prepared], *, check_accepted: bool
) -> Burst:
    """Send every request from CLIENT_THREADS threads; time the whole burst and each request."""

    def send(prepared: Prepared) -> tuple[float, bool, str]:
        body, headers = prepared
        started = time.perf_counter()
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return time.perf_counter() - started, False, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        ok = accepted(response) if check_accepted else response.status_code == 200
        return seconds, ok, "" if ok else f"{response.status_code} {response.text[:200]}"

    return _timed_burst(send, requests)


def _timed_burst(send: Callable[[T], tuple[float, bool, str]], items: Sequence[T]) -> Burst:
    """Run `send` over the items from CLIENT_THREADS threads; the burst's time and outcomes."""
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        started = time.perf_counter()
        outcomes = list(pool.map(send, items))
        elapsed = time.perf_counter() - started
    return Burst(
        sent=len(items),
        succeeded=sum(1 for _, ok, _ in outcomes if ok),
        seconds=elapsed,
        latencies_s=tuple(seconds for seconds, _, _ in outcomes),
        failures=tuple(problem for _, ok, problem in outcomes if not ok)[:5],
    )


def run_floor_burst(project: str, requests: Sequence[Prepared]) -> Burst:
    """The store and broker work of each request, done directly from CLIENT_THREADS threads."""
    from shared.adapters.firestore_conversations import FirestoreConversations
    from shared.adapters.pubsub_bus import PubSubBus
    from shared.app.ingest_webhook import ingest_support_webhook
    from shared.core.models import utcnow

    conversations, bus = FirestoreConversations(project), PubSubBus(project)
    payloads = [json.loads(body) for body, _ in requests]

    def ingest(payload: Any) -> tuple[float, bool, str]:
        started = time.perf_counter()
        outcome = ingest_support_webhook(
            "generic", payload, conversations=conversations, bus=bus, clock=utcnow
        )
        return time.perf_counter() - started, outcome.accepted == 1, ""

    return _timed_burst(ingest, payloads)


def _inbound_records(project: str) -> int:
    client = firestore.Client(project=project)
    try:
        result = client.collection("inbound").count().get()
        return int(result[0][0].value)
    finally:
        client.close()


def _latency_ms(bursts: Sequence[Burst], q: float) -> float:
    return round(percentile([s for b in bursts for s in b.latencies_s], q) * 1000, 1)


def run_suite(servers: LocalServers, *, quick: bool, repeats: int) -> BenchReport:
    """Start the webhooks function and the bare one, and compare their throughput."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    count = QUICK_REQUESTS if quick else FULL_REQUESTS
    servers.reset()
    webhooks = TOPOLOGY.function("webhooks")
    with ThreadPoolExecutor(2) as pool:
        ours_future = pool.submit(servers.start_function, webhooks)
        bare_future = pool.submit(servers.start_function, BARE_HTTP)
        ours_fn, bare_fn = ours_future.result(), bare_future.result()
    limits = httpx.Limits(max_connections=CLIENT_THREADS, max_keepalive_connections=CLIENT_THREADS)
    ours_url = f"{ours_fn.url}/webhooks/generic"
    bare_url = f"{bare_fn.url}/webhooks/generic"
    try:
        with httpx.Client(limits=limits, timeout=60) as client:
            run_burst(client, ours_url, prepare_requests(WARMUP, "warmup"), check_accepted=True)
            run_burst(client, bare_url, prepare_requests(WARMUP, "warmup"), check_accepted=False)
            run_floor_burst(servers.project, prepare_requests(WARMUP, "warmup-floor"))
            ours: list[Burst] = []
            bare: list[Burst] = []
            floor: list[Burst] = []
            for repeat in range(repeats):
                tag = f"{repeat}-{uuid.uuid4().hex[:6]}"
                ours.append(
                    run_burst(client, ours_url, prepare_requests(count, tag), check_accepted=True)
                )
                bare.append(
                    run_burst(client, bare_url, prepare_requests(count, tag), check_accepted=False)
                )
                floor.append(run_floor_burst(servers.project, prepare_requests(count, f"f{tag}")))
        stored = _inbound_records(servers.project)
    finally:
        ours_fn.process.stop()
        bare_fn.process.stop()
        servers.reset()

    ours_rate = statistics.median(b.rate for b in ours)
    bare_rate = statistics.median(b.rate for b in bare)
    floor_rate = statistics.median(b.rate for b in floor)
    expected_stored = 2 * (WARMUP + count * repeats)
    failures = [f for b in (*ours, *bare) for f in b.failures]
    all_ok = all(b.succeeded == b.sent for b in (*ours, *bare))
    agreement_ok = all_ok and stored == expected_stored
    share = ratio(ours_rate, bare_rate)
    floor_share = ratio(floor_rate, bare_rate)
    of_floor = ratio(ours_rate, floor_rate)
    case = CaseResult(
        suite=SUITE,
        case="webhook ingest",
        baseline="bare FF 200",
        figure="msg/s",
        ours_value=round(ours_rate, 1),
        baseline_value=round(bare_rate, 1),
        ratio=None if share is None else round(share, 3),
        higher_is_better=True,
        goal=f"ratio >= {GOAL_RATIO}",
        goal_met=share is not None and share >= GOAL_RATIO,
        ours_runs=tuple(round(b.rate, 1) for b in ours),
        baseline_runs=tuple(round(b.rate, 1) for b in bare),
        agreement=(
            f"{stored} stored, all accepted"
            if agreement_ok
            else f"{stored}/{expected_stored} stored; failures: {failures[:2]}"
        ),
        agreement_ok=agreement_ok,
        notes=(
            f"{count:,} signed messages x{repeats}, {CLIENT_THREADS} client threads; latency "
            f"p50/p95 ours {_latency_ms(ours, 50):.0f}/{_latency_ms(ours, 95):.0f} ms, "
            f"bare {_latency_ms(bare, 50):.0f}/{_latency_ms(bare, 95):.0f} ms; "
            f"ours is {of_floor or 0:.2f} of the store+broker floor"
        ),
        details={
            "requests_per_burst": count,
            "client_threads": CLIENT_THREADS,
            "server_threads": int(ours_fn.process.env["THREADS"]),
            "ours_latency_ms": {"p50": _latency_ms(ours, 50), "p95": _latency_ms(ours, 95)},
            "bare_latency_ms": {"p50": _latency_ms(bare, 50), "p95": _latency_ms(bare, 95)},
            "ours_share_of_floor": None if of_floor is None else round(of_floor, 3),
            "inbound_records": stored,
            "expected_inbound_records": expected_stored,
            "failures": failures,
        },
    )
    floor_case = CaseResult(
        suite=SUITE,
        case="store+broker floor",
        baseline="bare FF 200",
        figure="msg/s",
        ours_value=round(floor_rate, 1),
        baseline_value=round(bare_rate, 1),
        ratio=None if floor_share is None else round(floor_share, 3),
        higher_is_better=True,
        ours_runs=tuple(round(b.rate, 1) for b in floor),
        baseline_runs=tuple(round(b.rate, 1) for b in bare),
        agreement="all accepted" if all(b.succeeded == b.sent for b in floor) else "failures",
        agreement_ok=all(b.succeeded == b.sent for b in floor),
        notes=(
            f"ingest_support_webhook called directly from {CLIENT_THREADS} threads, no HTTP: "
            f"the emulators' share of each message (p50 {_latency_ms(floor, 50):.0f} ms)"
        ),
        details={"latency_ms": {"p50": _latency_ms(floor, 50), "p95": _latency_ms(floor, 95)}},
    )
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={"requests": count, "repeats": repeats, "warmup": WARMUP},
        environment={
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "httpx": httpx.__version__,
        },
        cases=(case, floor_case),
    )
