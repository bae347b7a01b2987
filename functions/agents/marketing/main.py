"""agent-marketing: runs the marketing agent's graph on each task from the agent-marketing topic."""

import functions_framework
from cloudevents.http import CloudEvent

from shared.wiring.functions import handle_agent_event


@functions_framework.cloud_event
def on_task(event: CloudEvent) -> None:
    """Run one marketing task; returning acks it, raising asks Pub/Sub to redeliver it."""
    handle_agent_event(event, agent="marketing")
