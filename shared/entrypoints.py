"""What each function's main.py calls: decode, call a use case, map the outcome.

CloudEvent handlers return to ack and raise to get the message redelivered; HTTP handlers
map the errors module's types to status codes. Imports of heavy modules stay inside the
handlers so that importing a main.py with an empty environment is cheap and safe.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from shared.envelope import Delivery, delivery_from_cloud_event, message_type_of, parse_message
from shared.errors import InvalidMessageError
from shared.models import AgentTask, RunRequest, TaskResult, utcnow

logger = logging.getLogger(__name__)


def _delivery(event: Any) -> Delivery:
    return delivery_from_cloud_event(str(event["id"]), event.get_data())


def handle_run_request_event(event: Any) -> None:
    """supervisor-runs: create a run and fan its tasks out."""
    from shared.app.consume import consume
    from shared.app.orchestrate import start_run
    from shared.wiring import services

    svc = services()

    def handle(delivery: Delivery) -> None:
        request = parse_message(delivery, RunRequest)
        start_run(request, delivery.message_id, store=svc.store, bus=svc.bus, clock=utcnow)

    consume(_delivery(event), handle, consumer="supervisor-runs", store=svc.store, bus=svc.bus, clock=utcnow)


def handle_task_result_event(event: Any) -> None:
    """supervisor-results: gather a task result (or a dead-lettered task) and maybe finish."""
    from shared.app.consume import consume
    from shared.app.orchestrate import fail_dead_lettered_task, record_task_result
    from shared.wiring import services

    svc = services()

    def handle(delivery: Delivery) -> None:
        if message_type_of(delivery) is AgentTask and delivery.dead_lettered_from:
            task = parse_message(delivery, AgentTask)
            fail_dead_lettered_task(task, delivery.dead_letter_attempts, store=svc.store, clock=utcnow)
            return
        if message_type_of(delivery) is not TaskResult:
            raise InvalidMessageError(f"unexpected message kind {delivery.attributes.get('kind')!r}")
        result = parse_message(delivery, TaskResult)
        record_task_result(result, store=svc.store, clock=utcnow)

    consume(_delivery(event), handle, consumer="supervisor-results", store=svc.store, bus=svc.bus, clock=utcnow)


@cache
def _agent_runner(agent: str) -> Any:
    from shared.adapters.faults import with_faults
    from shared.adapters.sample_source import SampleDataSource
    from shared.agents.registry import run_analysis_agent
    from shared.llm.offline import OfflineLLM
    from shared.wiring import services

    settings = services().settings
    source = with_faults(SampleDataSource(settings.sample_as_of), settings.faults.get(agent))
    llm = OfflineLLM()

    def run(task: AgentTask) -> Any:
        return run_analysis_agent(task, data=source, llm=llm)

    return run


def handle_agent_event(event: Any, agent: str) -> None:
    """agent-<name>: run one task of this agent."""
    from shared.app.consume import consume
    from shared.app.run_agent import run_agent_task
    from shared.topology import TOPOLOGY
    from shared.wiring import services

    svc = services()
    lease_s = TOPOLOGY.function(f"agent-{agent}").timeout_s

    def handle(delivery: Delivery) -> None:
        task = parse_message(delivery, AgentTask)
        if task.agent != agent:
            raise InvalidMessageError(f"task for agent {task.agent!r} delivered to {agent!r}")
        run_agent_task(
            task,
            delivery.message_id,
            store=svc.store,
            bus=svc.bus,
            runner=_agent_runner(agent),
            lease_s=lease_s,
            clock=utcnow,
        )

    consume(_delivery(event), handle, consumer=f"agent-{agent}", store=svc.store, bus=svc.bus, clock=utcnow)
