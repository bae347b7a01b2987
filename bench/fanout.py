"""Fan-out: does the cost of one task stay flat as a win-back grows from 10 to 1,000 customers?

The supervisor's engine and the agents' step handlers run in this process against the real
Firestore emulator, with the real SMTP sink receiving the emails; Pub/Sub is replaced by an
in-memory queue so the figure is the engine's and Firestore's, not the delivery's (the
end-to-end suite measures delivery). Every store call is counted (each is one Firestore RPC,
a transaction of two or three, or one query), and the time of the draft and send steps is
divided by their tasks. The baseline is the same run at the smallest size: a ratio near 1 at
1,000 customers means the per-task cost does not grow with the campaign, i.e. completion does
not funnel through one hot document.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from bench.local import LocalServers
from bench.measure import BenchReport, CaseResult, ratio
from emulators.smtp_sink import SmtpSink
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.sample_source import SampleDataSource
from shared.agents.registry import step_handler
from shared.agents.steps import StepContext
from shared.app.orchestrate import record_task_result, start_run
from shared.app.run_agent import run_agent_task
from shared.app.run_commands import DecisionBody, carry_out, decide_approval
from shared.core.agent_settings import resolve_agent_settings
from shared.core.messages import AgentTask, RunCommand, RunRequest, TaskResult
from shared.core.models import Message, RunStatus
from shared.core.ports import AgentOutcome, StepRecorder
from shared.email.firestore import FirestoreSuppressions
from shared.email.smtp import SmtpEmailSender
from shared.email.unsubscribe import Mailing
from shared.llm.offline import OfflineLLM

FULL_SIZES = (10, 100, 1000)
QUICK_SIZES = (10, 50)
SAMPLE_CUSTOMERS = 4000  # about 2,200 repeat buyers below P(alive) 0.95
TIMED_STEPS = ("draft", "send")


class QueueBus:
    """The Bus port as an in-memory queue (this suite leaves delivery out on purpose)."""

    def __init__(self) -> None:
        self.queue: deque[Message] = deque()

    def publish(self, topic: str, message: Message, **attributes: str) -> str:
        self.queue.append(message)
        return str(len(self.queue))

    def publish_many(self, topic: str, messages: Any) -> list[str]:
        return [self.publish(topic, m) for m in messages]

    def publish_raw(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        raise AssertionError(f"nothing should be dead-lettered here: {attributes}")


class CountingStore:
    """The Firestore store, counting calls per method and per step being timed."""

    def __init__(self, store: FirestoreStore) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if not callable(method):
            return method

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


def _clock() -> datetime:
    return datetime.now(UTC)


def run_campaign(customers: int, servers: LocalServers, sink: SmtpSink) -> dict[str, Any]:
    """One win-back of `customers` customers from request to the last email; its costs."""
    servers.reset()
    sink.clear()
    store = CountingStore(FirestoreStore(servers.project))
    bus = QueueBus()
    source = SampleDataSource(date(2026, 11, 16), customers=SAMPLE_CUSTOMERS)
    llm = OfflineLLM()
    sender = SmtpEmailSender("Shop <shop@example.com>", host=sink.host, port=sink.port)
    # Who unsubscribed is read from Firestore too (not counted among the store's calls).
    mailing = Mailing(
        FirestoreSuppressions(servers.project), b"bench-link-key", "http://127.0.0.1", "Shop"
    )

    def runner(task: AgentTask, on_step: StepRecorder) -> AgentOutcome:
        handler = step_handler(task)
        assert handler is not None, f"winback step {task.step} has a handler"
        context = StepContext(
            data=source,
            llm=lambda: llm,
            settings=lambda name: resolve_agent_settings(name),
            store=store,  # type: ignore[arg-type]
            email=lambda: sender,
            clock=_clock,
            on_step=on_step,
            mailing=lambda: mailing,
        )
        return handler(task, context)

    params = {"max_customers": customers, "max_p_alive": 0.95, "approval_expires_s": 3600}
    run_id = start_run(
        RunRequest(workflow="winback", params=params),
        f"bench-{customers}",
        store=store,  # type: ignore[arg-type]
        bus=bus,
        clock=_clock,
    )
    seconds: dict[str, float] = dict.fromkeys(TIMED_STEPS, 0.0)
    calls: dict[str, Counter[str]] = {step: Counter() for step in TIMED_STEPS}
    tasks: Counter[str] = Counter()
    delivered = 0
    while True:
        while bus.queue:
            message = bus.queue.popleft()
            delivered += 1
            step = _step_of(message)
            before = store.calls.copy()
            started = time.perf_counter()
            _deliver(message, f"m{delivered}", store, bus, runner)
            if step in TIMED_STEPS:
                seconds[step] += time.perf_counter() - started
                calls[step] += store.calls - before
                tasks[step] += isinstance(message, AgentTask)
        run = store.get_run(run_id)
        if run is None or run.status.terminal:
            break
        if run.status is RunStatus.WAITING:
            decide_approval(
                run_id,
                run.step,
                DecisionBody(decision="approve"),
                by="bench",
                store=store,  # type: ignore[arg-type]
                bus=bus,
                clock=_clock,
            )
            continue
        raise AssertionError(f"run {run_id} is {run.status} with nothing left to deliver")
    assert run is not None and run.status is RunStatus.SUCCEEDED, run and run.failure_reasons
    sent = sink.count_by_message_id()
    return {
        "customers": customers,
        "tasks": dict(tasks),
        "emails": sent.total(),
        "distinct_emails": len(sent),
        "seconds_per_task": {
            step: seconds[step] / tasks[step] for step in TIMED_STEPS if tasks[step]
        },
        "store_calls_per_task": {
            step: sum(calls[step].values()) / tasks[step] for step in TIMED_STEPS if tasks[step]
        },
        "store_calls_by_method": {step: dict(calls[step]) for step in TIMED_STEPS},
    }


def _step_of(message: Message) -> str | None:
    if isinstance(message, AgentTask):
        return message.step
    if isinstance(message, TaskResult):
        return message.task_id.split("-", 1)[0] if "-" in message.task_id else message.task_id
    return None


def _deliver(
    message: Message,
    delivery_id: str,
    store: CountingStore,
    bus: QueueBus,
    runner: Callable[[AgentTask, StepRecorder], AgentOutcome],
) -> None:
    if isinstance(message, AgentTask):
        run_agent_task(
            message,
            delivery_id,
            store=store,  # type: ignore[arg-type]
            bus=bus,
            runner=runner,
            lease_s=60,
            clock=_clock,
        )
    elif isinstance(message, TaskResult):
        record_task_result(message, delivery_id, store=store, bus=bus, clock=_clock)  # type: ignore[arg-type]
    elif isinstance(message, RunCommand):
        carry_out(message, delivery_id, store=store, bus=bus, clock=_clock)  # type: ignore[arg-type]
    else:
        raise AssertionError(f"unexpected message {message!r}")


def run_suite(servers: LocalServers, *, quick: bool) -> BenchReport:
    """Win-back at each size; per-task time and store calls against the smallest size."""
    started = datetime.now(UTC)
    wall = time.perf_counter()
    sizes = QUICK_SIZES if quick else FULL_SIZES
    servers.emulators()
    with SmtpSink(servers.workdir / "fanout-mailbox") as sink:
        results = [run_campaign(n, servers, sink) for n in sizes]
    base = results[0]
    cases = []
    for result in results:
        for step in TIMED_STEPS:
            seconds = result["seconds_per_task"][step]
            calls = result["store_calls_per_task"][step]
            base_seconds = base["seconds_per_task"][step]
            base_calls = base["store_calls_per_task"][step]
            ok = result["emails"] == result["distinct_emails"] == result["customers"]
            cases.append(
                CaseResult(
                    suite="fan-out",
                    case=f"{step} at {result['customers']} customers",
                    baseline=f"the same step at {base['customers']} customers",
                    figure="ms/task",
                    ours_value=round(seconds * 1000, 2),
                    baseline_value=round(base_seconds * 1000, 2),
                    ratio=ratio(seconds, base_seconds),
                    goal="ratio near 1 (flat)",
                    goal_met=(ratio(seconds, base_seconds) or 0) < 1.5,
                    agreement=f"{result['emails']} emails, {result['distinct_emails']} distinct",
                    agreement_ok=ok,
                    notes=(
                        f"store calls per task {calls:.2f} (at {base['customers']}: "
                        f"{base_calls:.2f}); a task's result and its step's count included"
                    ),
                    details=result,
                )
            )
    return BenchReport(
        suite="fan-out",
        started_at=started,
        wall_seconds=round(time.perf_counter() - wall, 1),
        quick=quick,
        parameters={"sizes": list(sizes), "sample_customers": SAMPLE_CUSTOMERS},
        environment={},
        cases=tuple(cases),
    )
