"""What a win-back offer is expected to return, with every assumption an explicit input.

For the customers targeted, with S the sum of their P(alive) (from the BG/NBD):

    incremental purchases = S x uplift
    redemptions           = S x (baseline purchase rate + uplift)
    net value             = incremental purchases x value per purchase
                            - redemptions x offer cost - customers x send cost

A customer who has churned for good cannot be won back by an offer, which is why only the
alive share counts. `uplift` is the extra probability that an alive customer buys in the
campaign window because of the offer (from a past test or a stated guess); customers who
would have bought anyway (`baseline_purchase_rate`) redeem the offer too, so their discount
is a cost with no gain. The break-even uplift is the uplift at which the net value is zero;
an uplift below it loses money.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from shared.analytics._numbers import RATIO_DECIMALS, ratio
from shared.analytics.bgnbd import ChurnForecast, CustomerChurnScore


class WinbackAssumptions(BaseModel):
    """The assumptions behind a win-back estimate, all stated."""

    model_config = ConfigDict(frozen=True)
    value_per_purchase_cents: int = Field(ge=0)  # e.g. average order value x gross margin
    uplift: float = Field(ge=0, le=1)  # extra purchase probability for an alive customer
    offer_cost_cents: int = Field(ge=0)  # per redemption, e.g. the discount
    send_cost_cents: int = Field(ge=0)  # per customer contacted
    baseline_purchase_rate: float = Field(default=0.0, ge=0, le=1)  # would buy anyway


class WinbackEstimate(BaseModel):
    """Expected outcome of sending the offer to the targeted customers."""

    model_config = ConfigDict(frozen=True)
    assumptions: WinbackAssumptions
    customers_targeted: int
    expected_alive_customers: float  # sum of P(alive)
    incremental_purchases: float
    expected_redemptions: float
    incremental_value_cents: int
    offer_cost_cents: int  # all redemptions
    send_cost_cents: int  # all customers contacted
    net_value_cents: int
    roi: float | None  # net value / (offer + send cost); None when it costs nothing
    break_even_uplift: float | None  # None when a purchase is worth no more than the offer
    worth_sending: bool  # net value > 0


def winback_offer_roi(p_alive: Sequence[float], assumptions: WinbackAssumptions) -> WinbackEstimate:
    """Expected incremental value, costs, net value and ROI of a win-back offer."""
    if any(not 0 <= p <= 1 for p in p_alive):
        raise ValueError("every P(alive) must be between 0 and 1")
    alive = sum(p_alive)
    customers = len(p_alive)
    incremental = alive * assumptions.uplift
    redemptions = alive * (assumptions.baseline_purchase_rate + assumptions.uplift)
    value = round(incremental * assumptions.value_per_purchase_cents)
    offer_cost = round(redemptions * assumptions.offer_cost_cents)
    send_cost = customers * assumptions.send_cost_cents
    net = value - offer_cost - send_cost
    margin = assumptions.value_per_purchase_cents - assumptions.offer_cost_cents
    break_even = None
    if margin > 0 and alive > 0:
        fixed = alive * assumptions.baseline_purchase_rate * assumptions.offer_cost_cents
        break_even = round((fixed + send_cost) / (alive * margin), RATIO_DECIMALS)
    return WinbackEstimate(
        assumptions=assumptions,
        customers_targeted=customers,
        expected_alive_customers=round(alive, RATIO_DECIMALS),
        incremental_purchases=round(incremental, RATIO_DECIMALS),
        expected_redemptions=round(redemptions, RATIO_DECIMALS),
        incremental_value_cents=value,
        offer_cost_cents=offer_cost,
        send_cost_cents=send_cost,
        net_value_cents=net,
        roi=ratio(net, offer_cost + send_cost),
        break_even_uplift=break_even,
        worth_sending=net > 0,
    )


def winback_targets(
    forecast: ChurnForecast, *, min_p_alive: float = 0.0, max_p_alive: float | None = None
) -> list[CustomerChurnScore]:
    """Customers worth a win-back: repeat buyers below the churn threshold, above a floor.

    max_p_alive defaults to the forecast's churn threshold: customers above it are likely
    still active and need no win-back.
    """
    ceiling = forecast.churn_threshold if max_p_alive is None else max_p_alive
    return [
        customer
        for customer in forecast.customers
        if customer.frequency > 0 and min_p_alive <= customer.p_alive < ceiling
    ]
