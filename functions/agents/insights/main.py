"""agent-insights: runs the insights agent's graph on each task from the agent-insights topic."""

import functions_framework
from cloudevents.http import CloudEvent

from shared.wiring.functions import handle_agent_event


@functions_framework.cloud_event
def on_task(event: CloudEvent) -> None:
    """Run one insights task; returning acks it, raising asks Pub/Sub to redeliver it."""
    handle_agent_event(event, agent="insights")
