"""supervisor: plans runs, fans tasks out, gathers results and finishes runs.

Deployed as two functions from this one source: supervisor-runs (topic run-requests) and
supervisor-results (topic task-results, which also receives dead-lettered agent tasks).
"""

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_run_request_event, handle_task_result_event


@functions_framework.cloud_event
def on_run_request(event: CloudEvent) -> None:
    """Create the run and publish one task per agent; raising asks for redelivery."""
    handle_run_request_event(event)


@functions_framework.cloud_event
def on_task_result(event: CloudEvent) -> None:
    """Record a finished (or dead-lettered) task and finish the run when it was the last."""
    handle_task_result_event(event)
