"""supervisor: plans runs, fans tasks out, gathers results and finishes runs.

Deployed as six functions from this one source: supervisor-runs (topic run-requests: run
requests and people's commands), supervisor-results (task-results), supervisor-billing
(billing-events), supervisor-segments (segment-changes), supervisor-dead-letters
(dead-letters) and supervisor-sweeper (sweeps, ticked by schedules). What happens when a
run ends, however it ends, is `shared.app.supervise.Supervisor`.
"""

import logging

import functions_framework
from cloudevents.http import CloudEvent

from shared.app.consume import consumer_span
from shared.core.envelope import Delivery, delivery_from_cloud_event, parse_message
from shared.core.errors import PermanentError
from shared.core.log import log_context
from shared.core.messages import BillingEvent, SegmentChange
from shared.wiring.functions import consume_event, supervisor
from shared.wiring.services import services

# What only one of the six handlers uses is imported inside it: each function imports this
# whole file on a cold start, and the knowledge base's libraries alone take 0.25 s.

logger = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_run_request(event: CloudEvent) -> None:
    """Create the run and publish its first step's tasks, or carry out a person's command;
    raising asks for redelivery."""
    consume_event(event, "supervisor-runs", lambda d: supervisor().take_run_message(d))


@functions_framework.cloud_event
def on_task_result(event: CloudEvent) -> None:
    """Record a finished task; the last of a step moves the run to the next step."""
    consume_event(event, "supervisor-results", lambda d: supervisor().take_result(d))


@functions_framework.cloud_event
def on_billing_event(event: CloudEvent) -> None:
    """A Stripe cancellation requests a win-back run for that one customer."""

    from shared.app.billing import start_winback_on_cancellation

    def handle(delivery: Delivery) -> None:
        billing = parse_message(delivery, BillingEvent)
        started = start_winback_on_cancellation(billing.event, bus=services().bus)
        logger.info("billing event %s (%s): %s", billing.event.id, billing.event.type, started)

    consume_event(event, "supervisor-billing", handle)


@functions_framework.cloud_event
def on_segment_change(event: CloudEvent) -> None:
    """A user entering a segment that names a workflow (`on_enter`) requests a run of it."""

    from shared.app.segment_entry import start_workflow_on_entry
    from shared.wiring.tracking import segment_catalog

    def handle(delivery: Delivery) -> None:
        change = parse_message(delivery, SegmentChange)
        outcome = start_workflow_on_entry(change, segment_catalog(), bus=services().bus)
        logger.info("segment change %s: %s", change.change_id, outcome)

    consume_event(event, "supervisor-segments", handle)


@functions_framework.cloud_event
def on_dead_letter(event: CloudEvent) -> None:
    """Record a dead-lettered message on its run and fail its task, so no run stays stuck;
    never dead-letter it again."""
    services()  # configures tracing before the span opens
    try:
        delivery = delivery_from_cloud_event(str(event["id"]), event.get_data())
        with (
            consumer_span("supervisor-dead-letters", delivery),
            log_context(run_id=delivery.attributes.get("run_id"), message_id=delivery.message_id),
        ):
            outcome = supervisor().take_dead_letter(delivery)
    except PermanentError as exc:
        # It stays on the dead-letter topic's keep subscription for a person to read.
        logger.error("dead letter %s cannot be attributed: %s", event["id"], exc)
        return
    logger.info("dead letter %s: %s", event["id"], outcome)


@functions_framework.cloud_event
def on_sweep(event: CloudEvent) -> None:
    """A scheduled maintenance tick, routed by its `kind` attribute.

    kind=sweep fails what is past its run's deadline and expires approvals; kind=kb_reindex
    re-indexes the knowledge base from its articles; kind=segments_refresh and
    recommendations_refresh run the tracking jobs. An unknown kind is logged and acknowledged.
    """
    services()  # configures tracing before the span opens
    delivery = delivery_from_cloud_event(str(event["id"]), event.get_data())
    with consumer_span("supervisor-sweeper", delivery):
        _maintain(str(event["id"]), delivery.attributes.get("kind", "sweep"))


def _maintain(event_id: str, kind: str) -> None:
    from shared.wiring.kb import reindex
    from shared.wiring.tracking import refresh_recommendations_now, refresh_segments_now

    settings = services().settings
    if kind == "kb_reindex":
        report = reindex(settings, settings.kb_articles_dir, settings.kb_embedder)
        logger.info("kb re-index %s: %s", event_id, report.summary())
    elif kind == "segments_refresh":
        logger.info("segments refresh %s: %s", event_id, refresh_segments_now().summary())
    elif kind == "recommendations_refresh":
        refreshed = refresh_recommendations_now()
        logger.info("recommendations refresh %s: %s", event_id, refreshed.summary())
    elif kind == "sweep":
        swept, expired = supervisor().sweep()
        logger.info(
            "sweep %s: %d overdue run(s) %s, %d expired approval(s) %s",
            event_id,
            len(swept),
            swept,
            len(expired),
            expired,
        )
    else:
        logger.error("maintenance tick %s has unknown kind %r; ignored", event_id, kind)
