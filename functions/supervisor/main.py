"""supervisor: plans runs, fans tasks out, gathers results and finishes runs.

Deployed as four functions from this one source: supervisor-runs (topic run-requests),
supervisor-results (task-results), supervisor-dead-letters (dead-letters) and
supervisor-sweeper (sweeps, ticked by a schedule).
"""

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import (
    handle_dead_letter_event,
    handle_run_request_event,
    handle_sweep_event,
    handle_task_result_event,
)


@functions_framework.cloud_event
def on_run_request(event: CloudEvent) -> None:
    """Create the run and publish one task per agent; raising asks for redelivery."""
    handle_run_request_event(event)


@functions_framework.cloud_event
def on_task_result(event: CloudEvent) -> None:
    """Record a finished (or dead-lettered) task and finish the run when it was the last."""
    handle_task_result_event(event)


@functions_framework.cloud_event
def on_dead_letter(event: CloudEvent) -> None:
    """Record a dead-lettered message on its run and fail its task, so no run stays stuck."""
    handle_dead_letter_event(event)


@functions_framework.cloud_event
def on_sweep(event: CloudEvent) -> None:
    """Maintenance ticks: finish overdue runs, or re-index the knowledge base nightly."""
    handle_sweep_event(event)
