"""What each function's main.py calls: decode, call a use case, map the outcome.

CloudEvent handlers return to ack and raise to get the message redelivered; a message that
can never succeed is recorded and dead-lettered by `shared.app.consume`. Heavy imports stay
inside the handlers so that importing a main.py with an empty environment is cheap and safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from shared.envelope import Delivery, delivery_from_cloud_event, message_type_of, parse_message
from shared.errors import InvalidMessageError, PermanentError
from shared.models import AgentTask, RunRequest, TaskResult, utcnow

logger = logging.getLogger(__name__)


def _after_run_finished(run_id: str) -> None:
    """Announce and export a finished run (each effect once; safe on every redelivery)."""
    from shared.app.run_effects import complete_run_effects
    from shared.wiring import artifact_store, notifier, row_exporter, services

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


def _consume(event: Any, consumer: str, handle: Callable[[Delivery], object]) -> None:
    from shared.app.consume import consume
    from shared.langsmith_tracing import langsmith_tracing
    from shared.wiring import services

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


def handle_run_request_event(event: Any) -> None:
    """supervisor-runs: create a run and fan its tasks out, or carry out a person's command."""
    from shared.app.orchestrate import start_run
    from shared.app.run_commands import carry_out
    from shared.models import RunCommand
    from shared.wiring import services

    def handle(delivery: Delivery) -> None:
        svc = services()
        if message_type_of(delivery) is RunCommand:
            command = parse_message(delivery, RunCommand)
            done = carry_out(
                command, delivery.message_id, store=svc.store, bus=svc.bus, clock=utcnow
            )
            logger.info("run %s: %s by %s: %s", command.run_id, command.command, command.by, done)
            _after_run_finished_if_over(command.run_id)
            return
        request = parse_message(delivery, RunRequest)
        run_id = start_run(request, delivery.message_id, store=svc.store, bus=svc.bus, clock=utcnow)
        _after_run_finished_if_over(run_id)

    _consume(event, "supervisor-runs", handle)


def _after_run_finished_if_over(run_id: str) -> None:
    from shared.wiring import services

    run = services().store.get_run(run_id)
    if run is not None and run.status.terminal:
        _after_run_finished(run_id)


def handle_billing_event(event: Any) -> None:
    """supervisor-billing: a Stripe cancellation starts a win-back for that one customer."""
    from shared.app.billing import start_winback_on_cancellation
    from shared.app.ingest_webhook import BillingEvent
    from shared.wiring import services

    def handle(delivery: Delivery) -> None:
        billing = parse_message(delivery, BillingEvent)
        started = start_winback_on_cancellation(billing.event, bus=services().bus)
        logger.info("billing event %s (%s): %s", billing.event.id, billing.event.type, started)

    _consume(event, "supervisor-billing", handle)


def handle_task_result_event(event: Any) -> None:
    """supervisor-results: gather a task result and finish the run when it was the last."""
    from shared.app.orchestrate import record_task_result
    from shared.wiring import services

    def handle(delivery: Delivery) -> None:
        kind = delivery.attributes.get("kind")
        if message_type_of(delivery) is not TaskResult:
            raise InvalidMessageError(f"unexpected message kind {kind!r}")
        result = parse_message(delivery, TaskResult)
        svc = services()
        status = record_task_result(
            result, delivery.message_id, store=svc.store, bus=svc.bus, clock=utcnow
        )
        if status is not None and status.terminal:
            _after_run_finished(result.run_id)

    _consume(event, "supervisor-results", handle)


def handle_agent_event(event: Any, agent: str) -> None:
    """agent-<name>: run one task of this agent."""
    from shared.app.run_agent import run_agent_task
    from shared.topology import TOPOLOGY
    from shared.wiring import services

    lease_s = TOPOLOGY.function(f"agent-{agent}").timeout_s

    def handle(delivery: Delivery) -> None:
        svc = services()
        if agent == "support" and delivery.attributes.get("kind") == "support_message":
            _answer_customer(delivery)
            return
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

    _consume(event, f"agent-{agent}", handle)


def handle_tracking_events(event: Any) -> None:
    """profiles: apply one request's tracked events to profiles, each event at most once,
    then re-evaluate those users' segments (publishing who entered or left)."""
    from shared.tracking.membership import update_segments
    from shared.tracking.models import TrackingEvents
    from shared.tracking.profiles import apply_tracking_events
    from shared.tracking.wiring import profiles, segment_catalog, segments
    from shared.wiring import services

    def handle(delivery: Delivery) -> None:
        message = parse_message(delivery, TrackingEvents)
        outcome = apply_tracking_events(message, profiles())
        # Also on a duplicate: a change written but not yet announced is announced again.
        users = {e.user_id for e in message.events if e.user_id is not None}
        changed = update_segments(
            users, catalog=segment_catalog(), store=segments(), bus=services().bus, clock=utcnow
        )
        logger.info(
            "events from %s: %d applied, %d duplicate(s); segments: %s",
            message.source,
            outcome.applied,
            outcome.duplicates,
            changed.summary(),
        )

    _consume(event, "profiles", handle)


def handle_segment_change_event(event: Any) -> None:
    """supervisor-segments: a user entering a segment with `on_enter` starts that workflow."""
    from shared.app.segment_entry import start_workflow_on_entry
    from shared.tracking.membership import SegmentChange
    from shared.tracking.wiring import segment_catalog
    from shared.wiring import services

    def handle(delivery: Delivery) -> None:
        change = parse_message(delivery, SegmentChange)
        outcome = start_workflow_on_entry(change, segment_catalog(), bus=services().bus)
        logger.info("segment change %s: %s", change.change_id, outcome)

    _consume(event, "supervisor-segments", handle)


def handle_dead_letter_event(event: Any) -> None:
    """supervisor-dead-letters: record what died on its run; never dead-letter it again."""
    from shared.app.consume import consumer_span
    from shared.app.dead_letters import record_dead_letter
    from shared.log import log_context
    from shared.wiring import services

    svc = services()  # configures tracing before the span opens
    try:
        delivery = delivery_from_cloud_event(str(event["id"]), event.get_data())
        with (
            consumer_span("supervisor-dead-letters", delivery),
            log_context(run_id=delivery.attributes.get("run_id"), message_id=delivery.message_id),
        ):
            outcome = record_dead_letter(delivery, store=svc.store, bus=svc.bus, clock=utcnow)
            run_id = delivery.attributes.get("run_id")
            if run_id and outcome in ("task failed", "noted"):
                _after_run_finished(run_id)
    except PermanentError as exc:
        # It stays on the dead-letter topic's keep subscription for a person to read.
        logger.error("dead letter %s cannot be attributed: %s", event["id"], exc)
        return
    logger.info("dead letter %s: %s", event["id"], outcome)


def handle_sweep_event(event: Any) -> None:
    """supervisor-sweeper: a scheduled maintenance tick, routed by its `kind` attribute.

    kind=sweep fails what is past its run's deadline; kind=kb_reindex re-indexes the
    knowledge base from its articles; kind=segments_refresh and recommendations_refresh run
    the tracking jobs. An unknown kind is logged and acknowledged.
    """
    from shared.app.consume import consumer_span
    from shared.wiring import services

    services()  # configures tracing before the span opens
    delivery = delivery_from_cloud_event(str(event["id"]), event.get_data())
    with consumer_span("supervisor-sweeper", delivery):
        _maintain(str(event["id"]), delivery.attributes.get("kind", "sweep"))


def _maintain(event_id: str, kind: str) -> None:
    from shared.wiring import services

    svc = services()
    if kind == "kb_reindex":
        from shared.kb.service import reindex

        report = reindex(svc.settings, svc.settings.kb_articles_dir, svc.settings.kb_embedder)
        logger.info("kb re-index %s: %s", event_id, report.summary())
        return
    if kind == "segments_refresh":
        from shared.tracking.wiring import refresh_segments_now

        logger.info("segments refresh %s: %s", event_id, refresh_segments_now().summary())
        return
    if kind == "recommendations_refresh":
        from shared.tracking.wiring import refresh_recommendations_now

        refreshed = refresh_recommendations_now()
        logger.info("recommendations refresh %s: %s", event_id, refreshed.summary())
        return
    if kind != "sweep":
        logger.error("maintenance tick %s has unknown kind %r; ignored", event_id, kind)
        return
    from shared.app.sweep import expire_approvals, sweep_overdue_runs

    swept = sweep_overdue_runs(svc.store, bus=svc.bus, clock=utcnow)
    expired = expire_approvals(svc.store, bus=svc.bus, clock=utcnow)
    for run_id in (*swept, *expired):
        _after_run_finished_if_over(run_id)
    logger.info(
        "sweep %s: %d overdue run(s) %s, %d expired approval(s) %s",
        event_id,
        len(swept),
        swept,
        len(expired),
        expired,
    )


def _answer_customer(delivery: Delivery) -> None:
    from shared.agent_settings import resolve_agent_settings
    from shared.agents.support_conversation import SupportContext, build_graph
    from shared.app.answer_message import answer_support_message
    from shared.support.records import SupportMessage
    from shared.wiring import (
        conversations,
        escalation_tickets,
        knowledge_base,
        llm,
        notifier,
        reply_sender,
        services,
    )

    message = parse_message(delivery, SupportMessage)
    settings = resolve_agent_settings("support_reply", services().store)
    context = SupportContext(kb=knowledge_base(), llm=llm(), settings=settings)
    graph = _support_graph(build_graph)

    def decide(text: str) -> dict[str, Any]:
        state: dict[str, Any] = graph.invoke({"question": text}, context=context)
        return state

    decision = answer_support_message(
        message,
        conversations=conversations(),
        decide=decide,
        clock=utcnow,
        replies=reply_sender,
        notifier=notifier(),
        tickets=escalation_tickets(),
    )
    logger.info("support message %s: %s", delivery.message_id, decision.action)


@cache
def _support_graph(build: Callable[[], Any]) -> Any:
    return build()


def _lead_ports() -> Any:
    from shared.leads.wiring import lead_ports

    return lead_ports()


def _ad_ports() -> Any:
    from shared.ads.wiring import ad_ports

    return ad_ports()


@cache
def _agent_runner(agent: str) -> Any:
    from shared.adapters.faults import with_faults
    from shared.adapters.last_good import LastGoodDataSource
    from shared.agent_settings import resolve_agent_settings
    from shared.agents.registry import run_analysis_agent
    from shared.agents.steps import StepContext, step_handler
    from shared.ports import DataSource
    from shared.wiring import data_source, email_sender, llm, services

    svc = services()
    source: DataSource = LastGoodDataSource(
        with_faults(data_source(), svc.settings.faults.get(agent)),
        max_age=timedelta(hours=svc.settings.data_cache_max_age_h),
        clock=utcnow,
    )
    if agent == "marketing":
        from shared.ads.channel_feed import AdPerformanceFeed

        # The channel analysis also sees the ad platforms' figures the ad manager pulled.
        source = AdPerformanceFeed(
            source,
            lambda start, end: _ad_ports().store.performance_between(start, end),
            clock=utcnow,
        )

    def run(task: AgentTask, on_step: Any) -> Any:
        handler = step_handler(task)
        if handler is not None:
            context = StepContext(
                data=source,
                llm=llm,
                settings=lambda name: resolve_agent_settings(name, svc.store),
                store=svc.store,
                email=email_sender,
                clock=utcnow,
                on_step=on_step,
                leads=_lead_ports,
                ads=_ad_ports,
            )
            return handler(task, context)
        # Read per task, so an override saved on the status page applies without a deploy.
        agent_settings = resolve_agent_settings(agent, svc.store)
        return run_analysis_agent(
            task, data=source, llm=llm(), settings=agent_settings, on_step=on_step
        )

    return run
