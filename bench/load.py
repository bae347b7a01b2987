"""Load: many webhook messages and many concurrent weekly runs through the whole local cloud.

Two phases on loopback, the local cloud (every function its own process, the delivery pumps)
on the shared emulators:

1. Webhooks: `WEBHOOKS` signed site-chat messages (a new conversation each) sent from
   `CLIENT_THREADS` threads to POST /webhooks/generic, then the support agent works through
   them. Figures: accepted messages per second, request latency p50/p95/p99, errors. Then
   Firestore is read: every accepted message must be stored once (its inbound record) and
   answered or escalated once (one agent reply or one ticket per conversation, never two).
2. Runs: `RUNS` weekly runs requested at once through POST /runs (each its own idempotency
   key); every run must finish. Figures: runs finished, latency from request to `finished_at`
   p50/p95/p99.

The per-caller rate limit by address is switched off for the webhooks function: every
request here comes from one loopback address (the limit is tested on its own).
`run_load(quick)` runs both with a fresh set of emulators (for `make reliability`);
`run_suite` is the `load` suite of `make bench`.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from google.cloud import firestore

from bench.ingest import accepted
from bench.local import API_TOKEN, WEBHOOK_SECRETS, LocalServers, generic_webhook
from bench.measure import BenchReport, CaseResult, percentile
from emulators.cloud import LocalCloud, LocalCloudConfig

SUITE = "load"
CLIENT_THREADS = 16
WEBHOOKS, QUICK_WEBHOOKS = 10_000, 300
RUNS, QUICK_RUNS = 100, 10
ANSWER_TIMEOUT_S = 900
RUN_TIMEOUT_S = 600
TEXT = "How do I reset my password? (message {n})"


def _percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    return {f"p{q}": round(percentile(seconds, q) * 1000, 1) for q in (50, 95, 99)}


def send_webhooks(url: str, count: int, tag: str) -> dict[str, Any]:
    """POST `count` signed messages from CLIENT_THREADS threads; rate, latencies, errors."""
    now = int(time.time())
    prepared = [generic_webhook(f"load-{tag}-{n:06d}", TEXT.format(n=n), now) for n in range(count)]
    limits = httpx.Limits(max_connections=CLIENT_THREADS, max_keepalive_connections=CLIENT_THREADS)
    with httpx.Client(limits=limits, timeout=60) as client:

        def send(item: tuple[bytes, dict[str, str]]) -> tuple[float, bool]:
            body, headers = item
            started = time.perf_counter()
            try:
                ok = accepted(client.post(url, content=body, headers=headers))
            except httpx.HTTPError:
                ok = False
            return time.perf_counter() - started, ok

        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            started = time.perf_counter()
            outcomes = list(pool.map(send, prepared))
            elapsed = time.perf_counter() - started
    taken = sum(1 for _, ok in outcomes if ok)
    return {
        "sent": count,
        "accepted": taken,
        "errors": count - taken,
        "seconds": round(elapsed, 2),
        "per_second": round(taken / elapsed, 1) if elapsed else 0.0,
        "latency_ms": _percentiles_ms([s for s, _ in outcomes]),
    }


def handled(client: firestore.Client, tag: str) -> dict[str, int]:
    """Stored inbound records of this tag, and how each conversation was handled."""
    prefix = f"generic:load-{tag}-"
    inbound = client.collection("inbound").select([]).stream()
    stored = sum(1 for d in inbound if d.id.startswith(prefix))
    replies: dict[str, int] = {}
    agent_messages = client.collection_group("messages").where(
        filter=firestore.FieldFilter("role", "==", "agent")
    )
    for doc in agent_messages.stream():
        key = doc.reference.parent.parent.id if doc.reference.parent.parent else ""
        if key.startswith(f"generic:conv-load-{tag}-"):
            replies[key] = replies.get(key, 0) + 1
    tickets: dict[str, int] = {}
    for doc in client.collection("tickets").stream():
        if doc.id.startswith(prefix):
            tickets[doc.id] = tickets.get(doc.id, 0) + 1
    return {
        "stored": stored,
        "answered": len(replies),
        "escalated": len(tickets),
        "duplicates": sum(n - 1 for n in replies.values()) + sum(n - 1 for n in tickets.values()),
    }


def _count(query: Any) -> int:
    return int(query.count().get()[0][0].value)


def _wait_handled(
    client: firestore.Client, tag: str, accepted: int
) -> tuple[dict[str, int], float]:
    """Poll cheap counts (the database holds only this phase) until every accepted message
    has a reply or a ticket; then read each conversation once to find any handled twice."""
    started = time.perf_counter()
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    replies = client.collection_group("messages").where(
        filter=firestore.FieldFilter("role", "==", "agent")
    )
    while time.monotonic() < deadline:
        done = _count(replies) + _count(client.collection("tickets"))
        if done >= accepted:
            break
        time.sleep(2)
    elapsed = time.perf_counter() - started
    return handled(client, tag), elapsed


def request_runs(webhooks_url: str, count: int) -> tuple[list[str], dict[str, datetime]]:
    """POST /runs `count` times at once; the run ids and when each was requested."""
    requested: dict[str, datetime] = {}

    def start(n: int) -> str | None:
        at = datetime.now(UTC)
        response = httpx.post(
            f"{webhooks_url}/runs",
            json={"workflow": "weekly_gtm", "idempotency_key": f"load-{uuid.uuid4().hex}"},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=60,
        )
        if response.status_code != 202:
            return None
        run_id = str(response.json()["run_id"])
        requested[run_id] = at
        return run_id

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        ids = [run_id for run_id in pool.map(start, range(count)) if run_id]
    return ids, requested


def wait_runs(client: firestore.Client, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each run's status and finished_at once all are terminal (or the deadline passes)."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    finished: dict[str, dict[str, Any]] = {}
    while len(finished) < len(run_ids) and time.monotonic() < deadline:
        for run_id in run_ids:
            if run_id in finished:
                continue
            doc = client.collection("runs").document(run_id).get().to_dict() or {}
            if doc.get("status") in ("succeeded", "failed", "cancelled", "timed_out"):
                finished[run_id] = doc
        if len(finished) < len(run_ids):
            time.sleep(1)
    return finished


def measure(servers: LocalServers, *, quick: bool) -> dict[str, Any]:
    """Both phases in a local cloud on `servers`' emulators; the figures `make bench` shows."""
    servers.reset()
    config = LocalCloudConfig(
        project=servers.project,
        api_token=API_TOKEN,
        webhook_secrets=dict(WEBHOOK_SECRETS),
        workdir=servers.workdir / "load-cloud",
        function_env={
            "webhooks": {"CONTROLROOM_HTTP_RATE_LIMITS": json.dumps({"address": 0})},
        },
    )
    cloud = LocalCloud(config).start(emulators=servers.emulators())
    try:
        return _measure(cloud, servers.project, quick=quick)
    finally:
        cloud.stop()
        servers.reset()


def _measure(cloud: LocalCloud, project: str, *, quick: bool) -> dict[str, Any]:
    from emulators.demo import seed_knowledge_base

    seed_knowledge_base(cloud)
    client = firestore.Client(project=project)
    tag = uuid.uuid4().hex[:6]
    sent = send_webhooks(
        f"{cloud.webhooks_url}/webhooks/generic", QUICK_WEBHOOKS if quick else WEBHOOKS, tag
    )
    counts, handle_s = _wait_handled(client, tag, sent["accepted"])
    run_ids, requested = request_runs(cloud.webhooks_url, QUICK_RUNS if quick else RUNS)
    finished = wait_runs(client, run_ids)
    latencies = [
        (doc["finished_at"] - requested[run_id]).total_seconds()
        for run_id, doc in finished.items()
        if doc.get("finished_at") is not None
    ]
    return {
        "webhooks_sent": sent["sent"],
        "webhooks_accepted": sent["accepted"],
        "webhooks_stored": counts["stored"],
        "answered_or_escalated": counts["answered"] + counts["escalated"],
        "answered": counts["answered"],
        "escalated": counts["escalated"],
        "duplicates": counts["duplicates"],
        "webhooks_per_second": sent["per_second"],
        "handled_per_second": round(sent["accepted"] / handle_s, 1) if handle_s else 0.0,
        "webhook_latency_ms": sent["latency_ms"],
        "p50_ms": sent["latency_ms"]["p50"],
        "p95_ms": sent["latency_ms"]["p95"],
        "p99_ms": sent["latency_ms"]["p99"],
        "errors": sent["errors"],
        "runs_started": len(run_ids),
        "runs_finished": len(finished),
        "runs_succeeded": sum(1 for d in finished.values() if d.get("status") == "succeeded"),
        "run_latency_s": {k: round(v / 1000, 2) for k, v in _percentiles_ms(latencies).items()},
    }


def run_load(quick: bool) -> dict[str, Any]:
    """Both phases with emulators of their own (for `make reliability`)."""
    with tempfile.TemporaryDirectory(prefix="controlroom-load-") as workdir:
        servers = LocalServers(Path(workdir))
        try:
            return measure(servers, quick=quick)
        finally:
            servers.stop()


def run_suite(servers: LocalServers, *, quick: bool) -> BenchReport:
    """The `load` suite of `make bench`."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    figures = measure(servers, quick=quick)
    lost = figures["webhooks_accepted"] - figures["answered_or_escalated"]
    webhook_ok = (
        figures["webhooks_stored"] == figures["webhooks_accepted"]
        and lost == 0
        and figures["duplicates"] == 0
    )
    runs_ok = figures["runs_finished"] == figures["runs_started"]
    cases = (
        CaseResult(
            suite=SUITE,
            case=f"{figures['webhooks_sent']:,} webhooks",
            baseline="-",
            figure="msg/s",
            ours_value=figures["webhooks_per_second"],
            baseline_value=None,
            ratio=None,
            higher_is_better=True,
            agreement=(
                f"{figures['webhooks_stored']} stored, {figures['answered']} answered + "
                f"{figures['escalated']} escalated, {figures['duplicates']} twice, "
                f"{figures['errors']} errors"
            ),
            agreement_ok=webhook_ok,
            notes=(
                "latency p50/p95/p99 {p50:.0f}/{p95:.0f}/{p99:.0f} ms; the support agent "
                "handled {h} msg/s".format(
                    **figures["webhook_latency_ms"], h=figures["handled_per_second"]
                )
            ),
            details=figures,
        ),
        CaseResult(
            suite=SUITE,
            case=f"{figures['runs_started']} concurrent weekly runs",
            baseline="-",
            figure="p50 s",
            ours_value=figures["run_latency_s"]["p50"],
            baseline_value=None,
            ratio=None,
            agreement=(
                f"{figures['runs_finished']}/{figures['runs_started']} finished, "
                f"{figures['runs_succeeded']} succeeded"
            ),
            agreement_ok=runs_ok,
            notes="request to finished_at p50/p95/p99 {p50}/{p95}/{p99} s".format(
                **figures["run_latency_s"]
            ),
            details={},
        ),
    )
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={
            "webhooks": figures["webhooks_sent"],
            "runs": figures["runs_started"],
            "client_threads": CLIENT_THREADS,
        },
        environment={"cpu_count": os.cpu_count()},
        cases=cases,
    )
