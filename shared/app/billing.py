"""Use case: a Stripe churn signal starts a win-back for the one customer it names.

The run id derives from the Stripe event id, so a redelivered event (or Stripe's own retry,
already stored once by the webhook) maps to the same run and starts nothing new.
"""

from __future__ import annotations

from shared.core.messages import RunRequest, StripeEvent
from shared.core.models import stable_id
from shared.core.ports import Bus
from shared.core.topology import RUN_REQUESTS_TOPIC


def start_winback_on_cancellation(event: StripeEvent, *, bus: Bus) -> str:
    """Request a one-customer win-back run for a churn signal; returns what happened."""
    if not event.is_churn_signal:
        return "not a churn signal"
    if not event.customer_id:
        return "churn signal without a customer; nothing to win back"
    run_id = f"winback-{stable_id('stripe', event.id, length=12)}"
    bus.publish(
        RUN_REQUESTS_TOPIC,
        RunRequest(
            workflow="winback",
            trigger="webhook",
            params={"customer_id": event.customer_id, "stripe_event": event.id},
            run_id=run_id,
            requested_by=f"stripe:{event.type}",
        ),
    )
    return f"win-back run {run_id} requested for {event.customer_id}"
