"""End to end: weekly runs through the whole local cloud, their floors, and function memory.

The local cloud (`emulators.cloud.LocalCloud`: every function its own functions-framework
process, the delivery pumps, the Cloud Scheduler emulator) runs on the shared emulators. A
weekly-gtm job is created through the official Cloud Scheduler client and run with RunJob,
one run at a time, after one untimed warm-up run (the first request to each function pays
its cold start; the cold-start suite measures that). A run's latency is from just before
RunJob to the run's `finished_at`, both from this machine's clock; the run's documents give
the time per hop (scheduler to run created, run created to the last agent started, the
slowest agent's work, the last agent's finish to the run done).

The floor is measured in the same run, with the cloud idle: one publish-to-delivery through
the local cloud's own delivery path (a `SubscriptionPump` on a fresh topic, POSTing the
CloudEvent to a bare functions-framework function, timed from publish until the POST is
answered), one Firestore commit (a single-document `set`), and one invocation of an empty
LangGraph graph (one node returning nothing). The critical path of a weekly run has three
hops (run request to the supervisor, task to an agent, result to the supervisor), so the
floor is 3 x (delivery + commit + graph); the ratio says how many floors a run takes. The
emulator's own push delivery is not used by the local cloud and so is not the floor here.

Memory: the peak resident set (VmHWM) of every function's processes is reset after the
warm-up run and read after the timed runs (each time once no delivery has happened for a
second, so a run's tail after it is marked done is included); the figure is the gunicorn
worker's (the larger of the two processes). The baseline is the bare function of the same
signature, its peak reset and read around the floor deliveries.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

import httpx
from google.cloud import firestore, pubsub_v1
from langgraph.graph import END, START, StateGraph

from bench.local import API_TOKEN, BARE_EVENT, BARE_HTTP, WEBHOOK_SECRETS, LocalServers
from bench.measure import (
    BenchReport,
    CaseResult,
    child_peak_rss_kb,
    percentile,
    process_group,
    ratio,
    reset_child_peak_rss,
)
from emulators.cloud import LocalCloud, LocalCloudConfig
from emulators.demo import LOCATION, scheduler_job
from emulators.dispatcher import SubscriptionPump
from emulators.functions import RunningFunction
from emulators.provision import subscription_request
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.scheduler_client import scheduler_client
from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import RunStatus
from shared.core.topology import TOPOLOGY, Subscription

SUITE = "end-to-end"
FULL_RUNS = 20
QUICK_RUNS = 3
FLOOR_SAMPLES = 20
QUICK_FLOOR_SAMPLES = 8
GRAPH_SAMPLES = 200
HOPS = 3  # run request -> supervisor, task -> agent, result -> supervisor
RUN_TIMEOUT_S = 120.0
POLL_S = 0.05


def hop_seconds(started: datetime, run: RunDoc, tasks: Sequence[TaskDoc]) -> dict[str, float]:
    """Where a finished run's time went, from its documents' timestamps (seconds)."""
    if run.finished_at is None:
        raise ValueError(f"run {run.run_id} is not finished")
    agent_started = [t.started_at for t in tasks if t.started_at is not None]
    agent_finished = [t.finished_at for t in tasks if t.finished_at is not None]
    work = [
        (t.finished_at - t.started_at).total_seconds()
        for t in tasks
        if t.started_at is not None and t.finished_at is not None
    ]
    last_finished = max(agent_finished, default=run.created_at)
    return {
        "total": (run.finished_at - started).total_seconds(),
        "schedule_to_run_created": (run.created_at - started).total_seconds(),
        "run_created_to_last_agent_start": (
            max(agent_started, default=run.created_at) - run.created_at
        ).total_seconds(),
        "slowest_agent_work": max(work, default=0.0),
        "last_agent_done_to_run_done": (run.finished_at - last_finished).total_seconds(),
    }


def floor_seconds(delivery_s: float, commit_s: float, graph_s: float, hops: int = HOPS) -> float:
    """The least a run of `hops` hops could take: each hop one delivery, commit and graph."""
    return hops * (delivery_s + commit_s + graph_s)


def _median_time(action: Callable[[], object], samples: int) -> float:
    action()  # warm: first calls open connections
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


class _Empty(TypedDict, total=False):
    value: int


def empty_graph_seconds(samples: int = GRAPH_SAMPLES) -> float:
    """Median time of invoking a compiled one-node graph that changes nothing."""
    graph = StateGraph(_Empty)
    graph.add_node("noop", lambda state: {})
    graph.add_edge(START, "noop")
    graph.add_edge("noop", END)
    compiled = graph.compile()
    return _median_time(lambda: compiled.invoke({}), samples)


def commit_seconds(project: str, samples: int) -> float:
    """Median time of one single-document Firestore commit on the emulator."""
    client = firestore.Client(project=project)
    collection = client.collection(f"bench_floor_{uuid.uuid4().hex[:8]}")
    counter = iter(range(1_000_000))
    try:
        return _median_time(
            lambda: collection.document(f"d{next(counter)}").set({"at": time.time()}), samples
        )
    finally:
        client.close()


def delivery_seconds(project: str, target: RunningFunction, samples: int) -> list[float]:
    """Publish-to-answered times through a delivery pump to `target`, one message at a time."""
    name = f"bench-floor-{uuid.uuid4().hex[:8]}"
    subscription = Subscription(name=name, topic=name, dead_letter_topic=None)
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(project, name)
    publisher.create_topic(name=topic_path)
    subscriber.create_subscription(request=subscription_request(project, subscription))
    pump = SubscriptionPump(
        project, subscription, target_url=lambda: target.url + "/", parallelism=1
    )
    pump.start()
    timings = []
    try:
        for sample in range(samples + 1):
            started = time.perf_counter()
            publisher.publish(topic_path, b"{}", kind="bench_floor").result(timeout=30)
            deadline = started + 30
            while len(pump.records) <= sample:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"floor message {sample} was not delivered")
                time.sleep(0.001)
            record = pump.records[sample]
            if record.status is None or not 200 <= record.status < 300:
                raise RuntimeError(f"the bare function answered {record.status}: {record.error}")
            if sample > 0:  # the first one opened the connections
                timings.append(time.perf_counter() - started)
    finally:
        pump.stop()
        subscriber.delete_subscription(subscription=subscriber.subscription_path(project, name))
        publisher.delete_topic(topic=topic_path)
        subscriber.close()
    return timings


def _group_peaks_kb(running: RunningFunction) -> dict[int, float]:
    assert running.process.popen is not None
    pids = process_group(running.process.popen.pid)
    return {pid: peak for pid in pids if (peak := child_peak_rss_kb(pid)) is not None}


def _reset_peaks(functions: Sequence[RunningFunction]) -> bool:
    results = []
    for running in functions:
        assert running.process.popen is not None
        results += [reset_child_peak_rss(pid) for pid in process_group(running.process.popen.pid)]
    return all(results)


def _wait_new_run(store: FirestoreStore, known: set[str], deadline: float) -> str:
    while time.monotonic() < deadline:
        for run in store.list_runs(limit=5):
            if run.run_id not in known:
                return run.run_id
        time.sleep(POLL_S)
    raise TimeoutError("the scheduled run did not appear")


def _wait_finished(store: FirestoreStore, run_id: str, deadline: float) -> RunDoc:
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run is not None and run.status.terminal and run.finished_at is not None:
            return run
        time.sleep(POLL_S)
    raise TimeoutError(f"run {run_id} did not finish in {RUN_TIMEOUT_S}s")


def settle(cloud: LocalCloud, quiet_s: float = 1.0, timeout_s: float = 30.0) -> int:
    """Wait until no delivery has been recorded for `quiet_s` (the run's tail, such as its
    announcement after it is marked done, is over); the deliveries recorded so far."""
    deadline = time.monotonic() + timeout_s
    count = sum(len(pump.records) for pump in cloud.pumps.values())
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        now = sum(len(pump.records) for pump in cloud.pumps.values())
        if now != count:
            count, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            break
    return count


def run_scheduled(cloud: LocalCloud, job_name: str, store: FirestoreStore) -> dict[str, Any]:
    """Fire the weekly job now and wait for its run; the run's status and hop times."""
    known = {run.run_id for run in store.list_runs(limit=5)}
    started = datetime.now(UTC)
    scheduler_client(cloud.scheduler_address).run_job(name=job_name)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    run = _wait_finished(store, _wait_new_run(store, known, deadline), deadline)
    return {
        "run_id": run.run_id,
        "status": run.status.value,
        **hop_seconds(started, run, store.list_tasks(run.run_id)),
    }


def _memory_case(
    name: str, ours: dict[int, float], bare: dict[int, float], bare_name: str, served: str
) -> CaseResult:
    ours_mb = max(ours.values(), default=0.0) / 1024
    bare_mb = max(bare.values(), default=0.0) / 1024
    share = ratio(ours_mb, bare_mb)
    return CaseResult(
        suite=SUITE,
        case=f"memory {name}",
        baseline=bare_name,
        figure="peak RSS MB",
        ours_value=round(ours_mb, 1),
        baseline_value=round(bare_mb, 1),
        ratio=None if share is None else round(share, 2),
        agreement="measured" if ours else "no process",
        agreement_ok=bool(ours),
        notes=(
            f"gunicorn worker; all {len(ours)} processes {sum(ours.values()) / 1024:.0f} MB; "
            f"{served}"
        ),
        details={"peak_kb_by_pid": ours, "bare_peak_kb_by_pid": bare},
    )


def run_suite(servers: LocalServers, *, quick: bool) -> BenchReport:
    """Bring the local cloud up, time weekly runs and the floors, read function memory."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    runs_wanted = QUICK_RUNS if quick else FULL_RUNS
    floor_samples = QUICK_FLOOR_SAMPLES if quick else FLOOR_SAMPLES
    servers.reset()
    config = LocalCloudConfig(
        project=servers.project,
        api_token=API_TOKEN,
        webhook_secrets=dict(WEBHOOK_SECRETS),
        workdir=servers.workdir / "local-cloud",
    )
    cloud_started = time.perf_counter()
    cloud = LocalCloud(config).start(emulators=servers.emulators())
    cloud_start_s = time.perf_counter() - cloud_started
    bare_event = bare_http = None
    try:
        store = FirestoreStore(servers.project)
        client = scheduler_client(cloud.scheduler_address)
        job = client.create_job(
            parent=f"projects/{servers.project}/locations/{LOCATION}",
            job=scheduler_job(servers.project, TOPOLOGY.schedule("weekly-gtm")),
        )
        warmup = run_scheduled(cloud, job.name, store)
        settle(cloud)
        peaks_reset = _reset_peaks(list(cloud.functions.values()))
        delivered_before = {name: len(pump.records) for name, pump in cloud.pumps.items()}
        runs = [run_scheduled(cloud, job.name, store) for _ in range(runs_wanted)]
        settle(cloud)
        memory = {name: _group_peaks_kb(running) for name, running in cloud.functions.items()}
        served = {
            TOPOLOGY.subscription(name).push_function: len(pump.records) - delivered_before[name]
            for name, pump in cloud.pumps.items()
        }

        bare_event = servers.start_function(BARE_EVENT)
        bare_http = servers.start_function(BARE_HTTP)
        _reset_peaks([bare_event, bare_http])
        deliveries = delivery_seconds(servers.project, bare_event, floor_samples)
        with httpx.Client(timeout=10) as http:  # the bare HTTP function serves as many
            for _ in range(floor_samples):
                http.get(bare_http.url + "/").raise_for_status()
        bare_memory = {
            "cloudevent": _group_peaks_kb(bare_event),
            "http": _group_peaks_kb(bare_http),
        }
        commit = commit_seconds(servers.project, floor_samples)
        graph = empty_graph_seconds()
    finally:
        for bare in (bare_event, bare_http):
            if bare is not None:
                bare.process.stop()
        cloud.stop()
        servers.reset()

    delivery = statistics.median(deliveries)
    floor = floor_seconds(delivery, commit, graph)
    totals = [run["total"] for run in runs]
    succeeded = sum(run["status"] == RunStatus.SUCCEEDED.value for run in runs)
    hops = {
        key: round(statistics.median(run[key] for run in runs), 3)
        for key in runs[0]
        if key not in ("run_id", "status", "total")
    }
    floors = {
        "delivery_s": round(delivery, 4),
        "delivery_p95_s": round(percentile(deliveries, 95), 4),
        "commit_s": round(commit, 4),
        "empty_graph_s": round(graph, 5),
        "hops": HOPS,
        "floor_s": round(floor, 4),
    }
    agreement = f"{succeeded}/{len(runs)} succeeded"
    ok = succeeded == len(runs)
    p50, p95 = percentile(totals, 50), percentile(totals, 95)
    floor_note = (
        f"floor {HOPS} x (delivery {delivery * 1000:.0f} + commit {commit * 1000:.1f} + graph "
        f"{graph * 1000:.2f}) ms"
    )
    latency = [
        CaseResult(
            suite=SUITE,
            case=f"weekly run {name}",
            baseline="sum of floors",
            figure=f"{name} s",
            ours_value=round(value, 3),
            baseline_value=round(floor, 4),
            ratio=round(value / floor, 1) if floor > 0 else None,
            ours_runs=tuple(round(t, 3) for t in totals),
            agreement=agreement,
            agreement_ok=ok,
            notes=(
                f"{len(runs)} runs RunJob -> done; {floor_note}"
                if name == "p50"
                else "median hops s: "
                + ", ".join(f"{key} {value:.2f}" for key, value in hops.items())
            ),
            details={"floors": floors, "hops_median_s": hops, "runs": runs, "warmup": warmup},
        )
        for name, value in (("p50", p50), ("p95", p95))
    ]
    memory_cases = []
    for name, peaks in memory.items():
        signature = TOPOLOGY.function(name).signature
        bare_peaks = bare_memory["http" if signature == "http" else "cloudevent"]
        deliveries_served = (
            f"{served.get(name, 0)} deliveries in the timed runs"
            if signature != "http"
            else "HTTP, not on the weekly run's path (idle)"
        )
        memory_cases.append(
            _memory_case(name, peaks, bare_peaks, f"bare FF {signature}", deliveries_served)
        )
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={
            "runs": runs_wanted,
            "floor_samples": floor_samples,
            "local_cloud_start_s": round(cloud_start_s, 1),
            "peaks_reset": peaks_reset,
            "floors": floors,
        },
        environment={},
        cases=(*latency, *memory_cases),
    )
