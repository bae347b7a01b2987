"""agent-ads: the ad manager; works campaign steps of workflows (growth, ad performance)."""

import functions_framework
from cloudevents.http import CloudEvent

from shared.wiring.functions import handle_agent_event


@functions_framework.cloud_event
def on_task(event: CloudEvent) -> None:
    """Run one ad-manager task; returning acks it, raising asks Pub/Sub to redeliver it."""
    handle_agent_event(event, agent="ads")
