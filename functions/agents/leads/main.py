"""agent-leads: works lead-scoring steps of workflows (the growth workflow) from agent-leads."""

import functions_framework
from cloudevents.http import CloudEvent

from shared.wiring.functions import handle_agent_event


@functions_framework.cloud_event
def on_task(event: CloudEvent) -> None:
    """Run one lead-scoring task; returning acks it, raising asks Pub/Sub to redeliver it."""
    handle_agent_event(event, agent="leads")
