"""Tracking: events/s accepted by POST /v1/batch, and the lag from an accepted event to its
updated profile.

Throughput. Ours: the webhooks function (functions/webhooks/main.py, as its own process on
the emulators) taking `/v1/batch` requests of BATCH_ITEMS track events each: it checks the
key, validates every item, counts the batch against the key's quota (a sharded Firestore
counter: one write and one sum aggregation) and publishes it on the `events` topic before
answering 202. Baseline: the bare functions-framework function (bench/bare_function) taking
the same bodies and answering 200, with the same server threads. Both get the same
requests from CLIENT_THREADS threads sharing one httpx client, bodies prepared before the
clock starts, after a warm-up; the bursts alternate and the medians are compared. The rate
is events per second of the burst. The profiles function is not running meanwhile (what the
bursts publish is dropped afterwards), so the figure is the endpoint's alone. No goal
against the bare function: with a hundred events a request, it answers in the time ours
spends parsing them. The floor case says where the time goes: the same use case
(`shared.tracking.ingest.accept_events` with the same adapters: the quota's write and sum,
one publish) called from the same client threads in this process, with no HTTP and no
function; the emulators run on the same two cores, so ours against the floor is the cost of
the function itself (goal: at least FLOOR_GOAL of the floor's rate).

Lag. The profiles function (functions/profiles/main.py) fed from the `events` subscription
by the local cloud's delivery (emulators/dispatcher.py, as Eventarc push), the webhooks
function taking one `/v1/track` request every 1/LAG_RATE seconds. For each event: from the
moment its 202 arrived at the client to the commit time of its event document, which is
written in the same atomic batch as the profile's counters (so it is when the profile
changed). The segments of the user are evaluated after that write, in the same delivery.
Both clocks are this machine's. LAG_WARMUP events go first, unmeasured (the first deliveries
pay for lazy imports). No baseline: the notes give the time each push took (the function's
work, and its wait for the function's one thread), the rest is Pub/Sub and the pull.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from google.cloud import firestore

from bench.local import BARE_HTTP, LocalServers
from bench.measure import BenchReport, CaseResult, percentile, ratio
from emulators.dispatcher import SubscriptionPump
from emulators.functions import RunningFunction, function_process, wait_ready
from shared.core.models import stable_id
from shared.core.topology import TOPOLOGY, Function

SUITE = "tracking"
KEY = "bench-tracking-key-0123456789"
SOURCE = "bench"
CLIENT_THREADS = 8
BATCH_ITEMS = 100
WARMUP_BATCHES = 5
FULL_BATCHES = 100  # 10,000 events a burst
QUICK_BATCHES = 10
FULL_LAG_EVENTS = 300
QUICK_LAG_EVENTS = 40
LAG_RATE = 25.0  # /v1/track requests a second while measuring the lag
LAG_USERS = 50
LAG_WARMUP = 10
FLOOR_GOAL = 0.5
NAMES = ("Viewed Pricing", "Viewed Product", "Added to Cart", "Checked Out")


@dataclass(frozen=True)
class Burst:
    """One burst of batches against one server."""

    events: int
    accepted: int
    seconds: float
    failures: tuple[str, ...]

    @property
    def rate(self) -> float:
        """Accepted events per second."""
        return self.accepted / self.seconds if self.seconds > 0 else 0.0


def prepare_batches(count: int, tag: str) -> list[bytes]:
    """`count` /v1/batch bodies of BATCH_ITEMS track events with unique message ids."""
    bodies = []
    for batch in range(count):
        items = [
            {
                "type": "track",
                "user_id": f"bench-user-{(batch * BATCH_ITEMS + n) % 1000}",
                "event": NAMES[n % len(NAMES)],
                "properties": {"item_id": f"sku-{n % 40}"},
                "message_id": f"{tag}-{batch}-{n}",
            }
            for n in range(BATCH_ITEMS)
        ]
        bodies.append(json.dumps({"batch": items}).encode())
    return bodies


def run_burst(client: httpx.Client, url: str, bodies: Sequence[bytes], *, ours: bool) -> Burst:
    """POST every body from CLIENT_THREADS threads; events the server took, and the time."""
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}

    def send(body: bytes) -> tuple[int, str]:
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"
        if ours and response.status_code == 202:
            return int(response.json().get("accepted", 0)), ""
        if not ours and response.status_code == 200:
            return BATCH_ITEMS, ""
        return 0, f"{response.status_code} {response.text[:200]}"

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        started = time.perf_counter()
        outcomes = list(pool.map(send, bodies))
        seconds = time.perf_counter() - started
    return Burst(
        events=len(bodies) * BATCH_ITEMS,
        accepted=sum(n for n, _ in outcomes),
        seconds=seconds,
        failures=tuple(problem for _, problem in outcomes if problem)[:5],
    )


def run_floor_burst(project: str, bodies: Sequence[bytes]) -> Burst:
    """The use case behind /v1/batch for each body, from CLIENT_THREADS threads, no HTTP."""
    from shared.adapters.pubsub_bus import PubSubBus
    from shared.core.models import utcnow
    from shared.tracking.firestore import FirestoreQuota
    from shared.tracking.ingest import accept_events
    from shared.tracking.keys import TrackingKey
    from shared.tracking.models import BatchBody

    quota, bus = FirestoreQuota(project), PubSubBus(project)
    key = TrackingKey(source=SOURCE, tier="bench", daily_quota=100_000_000, secret=KEY)

    def send(body: bytes) -> int:
        items = BatchBody.model_validate(json.loads(body)).batch
        return accept_events(items, key, quota=quota, bus=bus, clock=utcnow).accepted

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        started = time.perf_counter()
        accepted = sum(pool.map(send, bodies))
        seconds = time.perf_counter() - started
    return Burst(len(bodies) * BATCH_ITEMS, accepted, seconds, ())


def measure_lag(
    client: httpx.Client, url: str, project: str, count: int
) -> tuple[list[float], int]:
    """Send `count` paced /v1/track requests; each event's accept-to-profile lag in seconds."""
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    tag = uuid.uuid4().hex[:8]
    accepted_at: dict[tuple[str, str], float] = {}
    failures = 0
    started = time.monotonic()
    for n in range(count):
        time.sleep(max(0.0, started + n / LAG_RATE - time.monotonic()))
        user, message_id = f"lag-user-{n % LAG_USERS}", f"lag-{tag}-{n}"
        body = {"user_id": user, "event": NAMES[n % len(NAMES)], "message_id": message_id}
        response = client.post(url, json=body, headers=headers)
        if response.status_code != 202:
            failures += 1
            continue
        accepted_at[(user, message_id)] = time.time()
    store = firestore.Client(project=project)
    try:
        refs = {
            key: store.collection("profiles")
            .document(key[0])
            .collection("events")
            .document(stable_id("tracked-event", SOURCE, key[1], length=32))
            for key in accepted_at
        }
        deadline = time.monotonic() + 60
        while True:
            snapshots = [s for s in store.get_all(list(refs.values())) if s.exists]
            if len(snapshots) == len(refs) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        by_path = {s.reference.path: s for s in snapshots}
        lags = [
            by_path[ref.path].create_time.timestamp() - accepted_at[key]
            for key, ref in refs.items()
            if ref.path in by_path
        ]
    finally:
        store.close()
    return lags, failures + (len(refs) - len(lags))


def _start(servers: LocalServers, function: Function, extra: dict[str, str]) -> RunningFunction:
    running = function_process(function, servers.function_env(extra), servers.log_dir)
    running.process.start()
    try:
        wait_ready(running)
    except BaseException:
        running.process.stop()
        raise
    return running


def _ms(values: Sequence[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 1)


def run_suite(servers: LocalServers, *, quick: bool, repeats: int) -> BenchReport:
    """Compare /v1/batch with the bare function, then measure event-to-profile lag."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    batches = QUICK_BATCHES if quick else FULL_BATCHES
    lag_events = QUICK_LAG_EVENTS if quick else FULL_LAG_EVENTS
    servers.reset()
    env = {
        "CONTROLROOM_TRACKING_KEYS": json.dumps({SOURCE: {"key": KEY, "tier": "bench"}}),
        "CONTROLROOM_TRACKING_TIER_QUOTAS": json.dumps({"bench": 100_000_000}),
    }
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(_start, servers, TOPOLOGY.function("webhooks"), env),
            pool.submit(_start, servers, BARE_HTTP, {}),
            pool.submit(_start, servers, TOPOLOGY.function("profiles"), {}),
        ]
        webhooks_fn, bare_fn, profiles_fn = (f.result() for f in futures)
    limits = httpx.Limits(max_connections=CLIENT_THREADS, max_keepalive_connections=CLIENT_THREADS)
    pump: SubscriptionPump | None = None
    try:
        with httpx.Client(limits=limits, timeout=60) as client:
            ours_url, bare_url = f"{webhooks_fn.url}/v1/batch", f"{bare_fn.url}/v1/batch"
            run_burst(client, ours_url, prepare_batches(WARMUP_BATCHES, "warm"), ours=True)
            run_burst(client, bare_url, prepare_batches(WARMUP_BATCHES, "warm"), ours=False)
            run_floor_burst(servers.project, prepare_batches(WARMUP_BATCHES, "warm-floor"))
            ours: list[Burst] = []
            bare: list[Burst] = []
            floor: list[Burst] = []
            for repeat in range(repeats):
                tag = f"r{repeat}-{uuid.uuid4().hex[:6]}"
                ours.append(run_burst(client, ours_url, prepare_batches(batches, tag), ours=True))
                bare.append(run_burst(client, bare_url, prepare_batches(batches, tag), ours=False))
                floor.append(run_floor_burst(servers.project, prepare_batches(batches, f"f{tag}")))
            servers.reset()  # drop what the bursts published: the lag starts from an empty queue
            subscription = TOPOLOGY.subscription("profiles")
            pump = SubscriptionPump(
                servers.project,
                subscription,
                target_url=lambda: profiles_fn.url + "/",
                parallelism=min(8, TOPOLOGY.function("profiles").max_instances),
            )
            pump.start()
            # The first deliveries pay for the function's lazy imports and clients.
            measure_lag(client, f"{webhooks_fn.url}/v1/track", servers.project, LAG_WARMUP)
            lags, lost = measure_lag(
                client, f"{webhooks_fn.url}/v1/track", servers.project, lag_events
            )
    finally:
        if pump is not None:
            pump.stop()
        for running in (webhooks_fn, bare_fn, profiles_fn):
            running.process.stop()
        servers.reset()

    ours_rate = statistics.median(b.rate for b in ours)
    bare_rate = statistics.median(b.rate for b in bare)
    floor_rate = statistics.median(b.rate for b in floor)
    share = ratio(ours_rate, bare_rate)
    of_floor = ratio(ours_rate, floor_rate)
    all_ok = all(b.accepted == b.events for b in (*ours, *bare, *floor))
    failures = [f for b in (*ours, *bare) for f in b.failures]
    deliveries = [r.seconds for r in (pump.records if pump else []) if r.status == 200]
    throughput = CaseResult(
        suite=SUITE,
        case="/v1/batch events accepted",
        baseline="bare FF 200",
        figure="events/s",
        ours_value=round(ours_rate, 1),
        baseline_value=round(bare_rate, 1),
        ratio=None if share is None else round(share, 3),
        higher_is_better=True,
        ours_runs=tuple(round(b.rate, 1) for b in ours),
        baseline_runs=tuple(round(b.rate, 1) for b in bare),
        agreement="all accepted" if all_ok else f"failures: {failures[:2]}",
        agreement_ok=all_ok,
        notes=(
            f"{batches} batches of {BATCH_ITEMS} track events x{repeats}, "
            f"{CLIENT_THREADS} client threads; each batch: key, validation, sharded quota "
            f"(1 write + 1 sum), 1 publish"
        ),
        details={"batches": batches, "batch_items": BATCH_ITEMS, "failures": failures},
    )
    floor_case = CaseResult(
        suite=SUITE,
        case="/v1/batch vs its store+broker floor",
        baseline="accept_events, no HTTP",
        figure="events/s",
        ours_value=round(ours_rate, 1),
        baseline_value=round(floor_rate, 1),
        ratio=None if of_floor is None else round(of_floor, 3),
        higher_is_better=True,
        goal=f"ratio >= {FLOOR_GOAL}",
        goal_met=of_floor is not None and of_floor >= FLOOR_GOAL,
        ours_runs=tuple(round(b.rate, 1) for b in ours),
        baseline_runs=tuple(round(b.rate, 1) for b in floor),
        agreement="all accepted" if all_ok else "failures",
        agreement_ok=all_ok,
        notes="the same use case and adapters from the same threads in this process",
        details={},
    )
    lag_ok = lost == 0 and bool(lags)
    lag_cases = [
        CaseResult(
            suite=SUITE,
            case=f"event -> profile lag p{q}",
            baseline="none",
            figure=f"p{q} ms",
            ours_value=_ms(lags, q) if lags else 0.0,
            baseline_value=None,
            ratio=None,
            agreement=f"{len(lags)} of {lag_events} applied" if lags else "none applied",
            agreement_ok=lag_ok,
            notes=(
                f"{lag_events} /v1/track at {LAG_RATE:.0f}/s; 202 at the client to the event's "
                f"commit; each push took p50 "
                f"{_ms(deliveries, 50) if deliveries else 0:.0f} ms"
            ),
            details={
                "lag_ms": {"p50": _ms(lags, 50), "p95": _ms(lags, 95)} if lags else {},
                "delivery_ms": (
                    {"p50": _ms(deliveries, 50), "p95": _ms(deliveries, 95)} if deliveries else {}
                ),
                "lost": lost,
            },
        )
        for q in (50, 95)
    ]
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={
            "batches": batches,
            "batch_items": BATCH_ITEMS,
            "repeats": repeats,
            "lag_events": lag_events,
            "lag_rate": LAG_RATE,
        },
        environment={
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "httpx": httpx.__version__,
        },
        cases=(throughput, floor_case, *lag_cases),
    )
