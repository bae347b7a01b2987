"""What the functions' main.py files share: one way to consume a CloudEvent, the supervisor
built from settings, and each agent's runner with its data source.

A main.py holds its own handler (decode, call a use case, log the outcome); this module
only builds what those handlers need. Adapters are built on first use, never at import, so
importing a main.py with an empty environment is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from shared.app.consume import consume
from shared.app.run_agent import run_agent_task
from shared.app.supervise import Supervisor
from shared.core.envelope import Delivery, parse_message
from shared.core.errors import InvalidMessageError
from shared.core.messages import AgentTask
from shared.core.models import utcnow
from shared.core.topology import TOPOLOGY
from shared.wiring.langsmith import langsmith_tracing
from shared.wiring.services import services


def consume_event(event: Any, consumer: str, handle: Callable[[Delivery], object]) -> None:
    """Decode a Pub/Sub CloudEvent and hand it to `handle`, once per message id.

    Returning acknowledges; a retryable failure raises (Pub/Sub redelivers); a message that
    can never succeed is recorded and dead-lettered by `shared.app.consume`.
    """
    svc = services()
    with langsmith_tracing(svc.settings, consumer=consumer):
        consume(
            str(event["id"]),
            event.get_data(),
            handle,
            consumer=consumer,
            store=svc.store,
            bus=svc.bus,
            clock=utcnow,
        )


def finish_run(run_id: str) -> None:
    """Announce and export a finished run (each effect once; safe on every redelivery)."""
    from shared.app.run_effects import complete_run_effects
    from shared.wiring.services import artifact_store, notifier, row_exporter

    svc = services()
    complete_run_effects(
        run_id,
        store=svc.store,
        notifier=notifier(),
        exporter=row_exporter(),
        artifacts=artifact_store(),
        status_url=svc.settings.status_url,
        clock=utcnow,
    )


def supervisor() -> Supervisor:
    """The supervisor over this process's store and bus."""
    svc = services()
    return Supervisor(
        store=svc.store,
        bus=svc.bus,
        clock=utcnow,
        when_finished=finish_run,
        stall_s=svc.settings.task_stall_s,
    )


def handle_agent_event(event: Any, agent: str) -> None:
    """agent-<name>: run one task of this agent (the same handler for all six agents)."""
    lease_s = services().settings.task_lease_s or TOPOLOGY.function(f"agent-{agent}").timeout_s

    def handle(delivery: Delivery) -> None:
        task = parse_message(delivery, AgentTask)
        if task.agent != agent:
            raise InvalidMessageError(f"task for agent {task.agent!r} delivered to {agent!r}")
        svc = services()
        run_agent_task(
            task,
            delivery.message_id,
            store=svc.store,
            bus=svc.bus,
            runner=agent_runner(agent),
            lease_s=lease_s,
            clock=utcnow,
        )

    consume_event(event, f"agent-{agent}", handle)


@cache
def agent_runner(agent: str) -> Callable[[AgentTask, Any], Any]:
    """Runs one task of `agent`: its workflow step handler, or its analysis graph.

    The agent reads the configured data through the last good copy (so an outage of the
    source serves the previous figures, said so) and through injected faults when the
    settings name some; marketing also sees the ad platforms' figures the ad manager pulled.
    """
    from shared.adapters.faults import with_faults
    from shared.adapters.last_good import LastGoodDataSource
    from shared.agents.registry import run_analysis_agent, step_handler
    from shared.core.agent_settings import resolve_agent_settings
    from shared.core.ports import DataSource
    from shared.wiring.services import data_source, email_sender, llm

    svc = services()
    source: DataSource = LastGoodDataSource(
        with_faults(data_source(), svc.settings.faults.get(agent)),
        max_age=timedelta(hours=svc.settings.data_cache_max_age_h),
        clock=utcnow,
    )
    if agent == "marketing":
        from shared.ads.channel_feed import AdPerformanceFeed
        from shared.wiring.ads import ad_ports

        source = AdPerformanceFeed(
            source,
            lambda start, end: ad_ports().store.performance_between(start, end),
            clock=utcnow,
        )

    def run(task: AgentTask, on_step: Any) -> Any:
        handler = step_handler(task)
        if handler is not None:
            # The step handlers' adapters (leads, ads, tracking) are imported by the first
            # step task, not by an agent that only runs its analysis graph.
            from shared.agents.steps import StepContext
            from shared.wiring.ads import ad_ports
            from shared.wiring.email import mailing
            from shared.wiring.leads import lead_ports

            context = StepContext(
                data=source,
                llm=llm,
                settings=lambda name: resolve_agent_settings(name, svc.store),
                store=svc.store,
                email=email_sender,
                clock=utcnow,
                on_step=on_step,
                leads=lead_ports,
                ads=ad_ports,
                mailing=mailing,
            )
            return handler(task, context)
        # Read per task, so an override saved on the status page applies without a deploy.
        agent_settings = resolve_agent_settings(agent, svc.store)
        return run_analysis_agent(
            task, data=source, llm=llm(), settings=agent_settings, on_step=on_step
        )

    return run


@cache
def support_graph() -> Any:
    """The compiled support-conversation graph (built once per process)."""
    from shared.agents.support_conversation import build_graph

    return build_graph()
