"""Cold start: from starting a function's process to its first answered request.

For each kind of function (the webhooks and status HTTP functions, the supervisor-runs and
one agent's CloudEvent functions) a fresh functions-framework process is started on the
emulators, exactly as the local cloud starts it; the clock runs from just before the process
is spawned until the first real request is answered:

- webhooks: a signed site-chat message (verified, stored, published);
- status: GET /runs with the bearer token (a Firestore query rendered as HTML);
- supervisor-runs: a weekly run request (creates the run and its tasks, publishes them);
- agent-insights: that run's insights task (the agent's graph on the sample data, offline
  LLM, the task written and its result published).

The request is sent as soon as the server answers (GET /robots.txt, which the framework
answers without calling the function, polled every `POLL_S`), so the figure is process
start, imports and server start ("server up"), plus the first request with its lazy imports
and first client connections. The baseline is the bare
function of the same signature and concurrency, started the same way and asked the same
kind of trivial request. A second request of the same kind, to the now warm process, shows
what of the first one was start-up. Processes run one at a time, ours and the baseline
alternating, and bytecode is compiled beforehand (a deployed function has it too).
"""

from __future__ import annotations

import compileall
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bench.local import API_TOKEN, LocalServers, bare_like, cloud_event, generic_webhook
from bench.measure import BenchReport, CaseResult, ratio
from emulators.functions import REPO_ROOT, RunningFunction
from shared.adapters.firestore_store import FirestoreStore
from shared.core.messages import AgentTask, RunRequest
from shared.core.models import TaskStatus
from shared.core.topology import TOPOLOGY, Function

SUITE = "cold-start"
POLL_S = 0.01
# functions-framework answers this itself (404 for HTTP functions, 405 for CloudEvent ones)
# without calling the function, so an answer means the server is up, nothing more.
READY_PATH = "/robots.txt"
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0
FUNCTIONS = ("webhooks", "status", "supervisor-runs", "agent-insights")

# A request to a running function: raises or returns the answer.
Request = Callable[[httpx.Client, str], httpx.Response]


@dataclass(frozen=True)
class ColdStart:
    """One fresh process: when its server answered, when its first request did, and a warm one."""

    server_up_s: float
    first_answer_s: float
    warm_request_s: float


def _get(path: str) -> Request:
    def send(client: httpx.Client, url: str) -> httpx.Response:
        return client.get(url + path, headers={"Authorization": f"Bearer {API_TOKEN}"})

    return send


def _webhook(message_id: str) -> Request:
    def send(client: httpx.Client, url: str) -> httpx.Response:
        body, headers = generic_webhook(message_id, "Where is my order?", int(time.time()))
        return client.post(f"{url}/webhooks/generic", content=body, headers=headers)

    return send


def _event(project: str, message: RunRequest | AgentTask) -> Request:
    def send(client: httpx.Client, url: str) -> httpx.Response:
        headers, body = cloud_event(project, message)
        return client.post(url + "/", content=body, headers=headers)

    return send


def _run_request(run_id: str) -> RunRequest:
    return RunRequest(workflow="weekly_gtm", trigger="schedule", run_id=run_id)


def _insights_task(run_id: str) -> AgentTask:
    return AgentTask(
        run_id=run_id, task_id="insights", agent="insights", workflow="weekly_gtm", params={}
    )


def measure_cold_start(
    running: RunningFunction, first: Request, warm: Request, client: httpx.Client
) -> ColdStart:
    """Start the (described, not started) process and time it up to its first answer."""
    started = time.perf_counter()
    running.process.start()
    try:
        deadline = started + START_TIMEOUT_S
        while True:
            if not running.process.running:
                raise RuntimeError(f"{running.function.name} exited:\n{running.process.log_tail()}")
            try:
                client.get(running.url + READY_PATH, timeout=1.0)
                break
            except httpx.TransportError:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{running.function.name} did not start") from None
                time.sleep(POLL_S)
        up = time.perf_counter() - started
        _require_success(first(client, running.url), running, "first")
        answered = time.perf_counter() - started
        warm_started = time.perf_counter()
        _require_success(warm(client, running.url), running, "warm")
        warm_s = time.perf_counter() - warm_started
    finally:
        running.process.stop()
    return ColdStart(server_up_s=up, first_answer_s=answered, warm_request_s=warm_s)


def _require_success(response: httpx.Response, running: RunningFunction, which: str) -> None:
    if not response.is_success:
        raise RuntimeError(
            f"{running.function.name} answered its {which} request with "
            f"{response.status_code}: {response.text[:300]}\n{running.process.log_tail()}"
        )


def _requests(project: str, name: str, repeat: int) -> tuple[Request, Request]:
    """The first and the warm request for one function in one repeat."""
    if name == "webhooks":
        return _webhook(f"cold-{repeat}-first"), _webhook(f"cold-{repeat}-warm")
    if name == "status":
        return _get("/runs"), _get("/runs")
    if name == "supervisor-runs":
        return (
            _event(project, _run_request(f"bench-cold-{repeat}-first")),
            _event(project, _run_request(f"bench-cold-{repeat}-warm")),
        )
    if name == "agent-insights":
        return (
            _event(project, _insights_task(f"bench-cold-{repeat}-first")),
            _event(project, _insights_task(f"bench-cold-{repeat}-warm")),
        )
    raise ValueError(f"no cold-start requests for {name!r}")


def _bare_requests(project: str, function: Function) -> tuple[Request, Request]:
    if function.signature == "http":
        return _get("/"), _get("/")
    message = _run_request("bench-bare-event")
    return _event(project, message), _event(project, message)


def _case(
    function: Function, ours: list[ColdStart], bare: list[ColdStart], agreement: str, ok: bool
) -> CaseResult:
    def median(values: list[ColdStart], field: str) -> float:
        return statistics.median(getattr(value, field) for value in values)

    ours_first, bare_first = median(ours, "first_answer_s"), median(bare, "first_answer_s")
    share = ratio(ours_first, bare_first)
    return CaseResult(
        suite=SUITE,
        case=function.name,
        baseline=f"bare FF {function.signature}",
        figure="s to 1st answer",
        ours_value=round(ours_first, 3),
        baseline_value=round(bare_first, 3),
        ratio=None if share is None else round(share, 2),
        ours_runs=tuple(round(run.first_answer_s, 3) for run in ours),
        baseline_runs=tuple(round(run.first_answer_s, 3) for run in bare),
        agreement=agreement,
        agreement_ok=ok,
        notes=(
            f"server up {median(ours, 'server_up_s'):.2f} s (bare "
            f"{median(bare, 'server_up_s'):.2f}); 1st request "
            f"{(ours_first - median(ours, 'server_up_s')) * 1000:.0f} ms, warm "
            f"{median(ours, 'warm_request_s') * 1000:.0f} ms (bare "
            f"{median(bare, 'warm_request_s') * 1000:.0f})"
        ),
        details={
            "ours": [vars(run) for run in ours],
            "bare": [vars(run) for run in bare],
        },
    )


def _check_work(store: FirestoreStore, repeats: int) -> tuple[str, bool]:
    """Whether the supervisor created the runs and the agent finished their insights tasks."""
    done = 0
    for repeat in range(repeats):
        for which in ("first", "warm"):
            task = store.get_task(f"bench-cold-{repeat}-{which}", "insights")
            done += task is not None and task.status is TaskStatus.SUCCEEDED
    expected = 2 * repeats
    return f"{done}/{expected} insights tasks done", done == expected


def run_suite(servers: LocalServers, *, quick: bool, repeats: int) -> BenchReport:
    """Time fresh processes of each function kind against bare ones, alternating."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    for folder in ("functions", "shared", "bench"):
        compileall.compile_dir(REPO_ROOT / folder, quiet=1)
    servers.reset()
    functions = [TOPOLOGY.function(name) for name in FUNCTIONS]
    ours: dict[str, list[ColdStart]] = {f.name: [] for f in functions}
    bare: dict[str, list[ColdStart]] = {f.name: [] for f in functions}
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        for repeat in range(repeats):
            for function in functions:
                baseline = bare_like(function)
                bare[function.name].append(
                    measure_cold_start(
                        servers.describe_function(baseline),
                        *_bare_requests(servers.project, baseline),
                        client,
                    )
                )
                ours[function.name].append(
                    measure_cold_start(
                        servers.describe_function(function),
                        *_requests(servers.project, function.name, repeat),
                        client,
                    )
                )
    work, work_ok = _check_work(FirestoreStore(servers.project), repeats)
    servers.reset()
    cases = []
    for function in functions:
        agreement, ok = ("answered 2xx", True)
        if function.name in ("supervisor-runs", "agent-insights"):
            agreement, ok = work, work_ok
        cases.append(_case(function, ours[function.name], bare[function.name], agreement, ok))
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={"repeats": repeats, "functions": list(FUNCTIONS), "poll_s": POLL_S},
        environment={},
        cases=tuple(cases),
    )
