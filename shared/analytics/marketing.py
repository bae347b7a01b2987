"""Marketing analytics: what each acquisition channel cost and what it brought back.

Attribution is last-touch by the customer's `acquisition_channel`. A customer counts as
*acquired* by the spend when they signed up between the first day of the earliest spend
month and `as_of`; customers who signed up earlier were bought by spend this data set does
not hold, so counting them would flatter CAC. Revenue is everything those customers ordered
up to `as_of`. Spend of months after `as_of`'s month and events after `as_of` are ignored.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.analytics._numbers import divide_cents, ratio
from shared.core.dataset import (
    ACQUISITION_CHANNELS,
    AcquisitionChannel,
    Dataset,
    month_key,
)


class ChannelPerformance(BaseModel):
    """Spend and return of one acquisition channel."""

    model_config = ConfigDict(frozen=True)
    channel: AcquisitionChannel
    spend_cents: int
    new_customers: int
    cac_cents: int | None  # spend / new customers; None when no customer was acquired
    revenue_cents: int  # from the customers this channel acquired
    roas: float | None  # revenue / spend; None when nothing was spent


class MarketingReport(BaseModel):
    """Per-channel performance, blended totals, and the best and worst channel by ROAS."""

    model_config = ConfigDict(frozen=True)
    as_of: date
    currency: Literal["EUR"] = "EUR"
    attribution_start: date | None  # None when there is no spend data
    channels: tuple[ChannelPerformance, ...]  # every known channel, in a fixed order
    total_spend_cents: int
    total_new_customers: int
    blended_cac_cents: int | None
    total_revenue_cents: int
    blended_roas: float | None
    best_channel: AcquisitionChannel | None  # highest ROAS; None when no channel has one
    worst_channel: AcquisitionChannel | None  # lowest ROAS


def channel_performance(dataset: Dataset) -> MarketingReport:
    """Spend, new customers, CAC, revenue and ROAS per acquisition channel."""
    as_of = dataset.as_of
    as_of_month = month_key(as_of)
    spend_rows = [row for row in dataset.channel_spend if row.month <= as_of_month]
    spend: dict[AcquisitionChannel, int] = dict.fromkeys(ACQUISITION_CHANNELS, 0)
    for row in spend_rows:
        spend[row.channel] += row.spend_cents

    attribution_start = None
    if spend_rows:
        first_month = min(row.month for row in spend_rows)
        attribution_start = date(int(first_month[:4]), int(first_month[5:7]), 1)

    channel_of_customer: dict[str, AcquisitionChannel] = {
        customer.customer_id: customer.acquisition_channel
        for customer in dataset.customers
        if attribution_start is not None and attribution_start <= customer.signup_date <= as_of
    }
    new_customers: dict[AcquisitionChannel, int] = dict.fromkeys(ACQUISITION_CHANNELS, 0)
    for channel in channel_of_customer.values():
        new_customers[channel] += 1
    revenue: dict[AcquisitionChannel, int] = dict.fromkeys(ACQUISITION_CHANNELS, 0)
    for order in dataset.orders:
        acquired_by = channel_of_customer.get(order.customer_id)
        if acquired_by is not None and order.order_date <= as_of:
            revenue[acquired_by] += order.amount_cents

    channels = tuple(
        ChannelPerformance(
            channel=channel,
            spend_cents=spend[channel],
            new_customers=new_customers[channel],
            cac_cents=divide_cents(spend[channel], new_customers[channel]),
            revenue_cents=revenue[channel],
            roas=ratio(revenue[channel], spend[channel]),
        )
        for channel in ACQUISITION_CHANNELS
    )
    ranked = [performance for performance in channels if performance.roas is not None]
    # max/min keep the first of equals, so ties go to the earlier channel in the fixed order.
    best = max(ranked, key=lambda performance: performance.roas or 0.0, default=None)
    worst = min(ranked, key=lambda performance: performance.roas or 0.0, default=None)
    total_spend = sum(spend.values())
    total_new = sum(new_customers.values())
    total_revenue = sum(revenue.values())
    return MarketingReport(
        as_of=as_of,
        attribution_start=attribution_start,
        channels=channels,
        total_spend_cents=total_spend,
        total_new_customers=total_new,
        blended_cac_cents=divide_cents(total_spend, total_new),
        total_revenue_cents=total_revenue,
        blended_roas=ratio(total_revenue, total_spend),
        best_channel=best.channel if best else None,
        worst_channel=worst.channel if worst else None,
    )
