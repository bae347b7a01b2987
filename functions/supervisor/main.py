"""supervisor: plans runs, fans tasks out, gathers results and finishes runs.

Deployed as six functions from this one source: supervisor-runs (topic run-requests: run
requests and people's commands), supervisor-results (task-results), supervisor-billing
(billing-events), supervisor-segments (segment-changes), supervisor-dead-letters
(dead-letters) and supervisor-sweeper (sweeps, ticked by schedules).
"""

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import (
    handle_billing_event,
    handle_dead_letter_event,
    handle_run_request_event,
    handle_segment_change_event,
    handle_sweep_event,
    handle_task_result_event,
)


@functions_framework.cloud_event
def on_run_request(event: CloudEvent) -> None:
    """Create the run and publish its first step's tasks, or carry out a person's command;
    raising asks for redelivery."""
    handle_run_request_event(event)


@functions_framework.cloud_event
def on_task_result(event: CloudEvent) -> None:
    """Record a finished task; the last of a step moves the run to the next step."""
    handle_task_result_event(event)


@functions_framework.cloud_event
def on_billing_event(event: CloudEvent) -> None:
    """A Stripe churn signal requests a win-back run for that customer."""
    handle_billing_event(event)


@functions_framework.cloud_event
def on_segment_change(event: CloudEvent) -> None:
    """A user entering a segment that names a workflow requests a run of it for them."""
    handle_segment_change_event(event)


@functions_framework.cloud_event
def on_dead_letter(event: CloudEvent) -> None:
    """Record a dead-lettered message on its run and fail its task, so no run stays stuck."""
    handle_dead_letter_event(event)


@functions_framework.cloud_event
def on_sweep(event: CloudEvent) -> None:
    """Maintenance ticks: finish overdue runs and expire approvals, re-index the KB, or
    refresh segments and recommendations."""
    handle_sweep_event(event)
