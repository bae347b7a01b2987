"""Monthly recurring revenue, its movements, customer and revenue churn, and net retention.

Every figure here derives from each customer's MRR in each complete calendar month (a month
is complete when its last day is on or before `as_of`):

- **From subscriptions**, when any are given: the sum of the monthly amounts of the
  customer's subscriptions active on the month's last day. A subscription is active from its
  `start_date` up to the day before its `end_date` (None: still running).
- **From orders**, otherwise (a shop whose customers reorder rather than subscribe): the
  customer's order revenue over the `run_rate_months` months ending with the month, divided
  by `run_rate_months` (default 3). Customers who reorder every few weeks thus keep a steady
  MRR instead of flickering in and out when a month happens to have no order, and a customer
  churns once they have not ordered for `run_rate_months` whole months. Every buyer counts,
  one-off buyers too: without a subscription flag there is nothing to tell a first order of a
  future regular from a one-off. The series starts with the first month whose window the data
  fully covers, so the first months are not a ramp-up artefact.

Between a month and the one before, with "customers" meaning customers with MRR > 0:

| field                 | definition                                                          |
| --------------------- | ------------------------------------------------------------------- |
| new_mrr               | MRR of customers who had none last month (new or reactivated)       |
| expansion_mrr         | increases of customers who had MRR in both months                   |
| contraction_mrr       | decreases of customers who had MRR in both months                   |
| churned_mrr           | last month's MRR of customers who have none now                     |
| customer_churn_rate   | churned customers / customers last month                            |
| revenue_churn_rate    | (churned + contraction) / last month's MRR (gross revenue churn)    |
| net_revenue_retention | this month's MRR of last month's customers / last month's MRR       |

The first month of the series has no month before it, so those fields are None there. ARR is
12 x MRR; ARPU is MRR / customers. Money is integer cents (order-based MRR is rounded half up
after the division); ratios are rounded to 4 decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.analytics._numbers import add_months, divide_cents, growth, ratio
from shared.core.dataset import Dataset, month_key

DEFAULT_RUN_RATE_MONTHS = 3
TRAILING_MONTHS = 3


class Subscription(BaseModel):
    """One customer's subscription: what it bills a month and when it ran."""

    model_config = ConfigDict(frozen=True)
    customer_id: str
    start_date: date
    end_date: date | None = None  # first day no longer active; None while it runs
    monthly_amount_cents: int = Field(ge=0)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Subscription:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        return self


class MrrMonth(BaseModel):
    """MRR of one complete month and how it moved since the month before."""

    model_config = ConfigDict(frozen=True)
    month: str  # "YYYY-MM"
    mrr_cents: int
    arr_cents: int
    customers: int  # with MRR > 0
    arpu_cents: int | None  # None without customers
    mrr_growth: float | None
    new_mrr_cents: int | None  # None for the first month of the series (and the fields below)
    expansion_mrr_cents: int | None
    contraction_mrr_cents: int | None
    churned_mrr_cents: int | None
    churned_customers: int | None
    customer_churn_rate: float | None
    revenue_churn_rate: float | None
    net_revenue_retention: float | None


class RecurringRevenueReport(BaseModel):
    """The MRR series, the latest month, and trailing churn and retention."""

    model_config = ConfigDict(frozen=True)
    as_of: date
    currency: Literal["EUR"] = "EUR"
    source: Literal["subscriptions", "orders"]
    run_rate_months: int | None  # the order-based window; None for subscriptions
    months: tuple[MrrMonth, ...]  # complete months, oldest first
    latest: MrrMonth | None
    # Pooled over the last three months with a month before: churned / customers at start.
    trailing_3_months_customer_churn: float | None
    trailing_3_months_revenue_churn: float | None
    # The latest month's MRR of the customers of twelve months before, over their MRR then.
    annual_net_revenue_retention: float | None


def recurring_revenue(
    dataset: Dataset,
    subscriptions: Sequence[Subscription] = (),
    as_of: date | None = None,
    run_rate_months: int = DEFAULT_RUN_RATE_MONTHS,
) -> RecurringRevenueReport:
    """MRR, ARR, MRR movements, churn and net revenue retention per complete month."""
    if run_rate_months < 1:
        raise ValueError(f"run_rate_months must be >= 1, got {run_rate_months}")
    as_of = dataset.as_of if as_of is None else as_of
    # The month before the one containing the day after as_of: the last complete month.
    last_complete = _month_index(as_of + timedelta(days=1)) - 1
    if subscriptions:
        source: Literal["subscriptions", "orders"] = "subscriptions"
        divisor = 1
        units = _subscription_units(subscriptions, last_complete)
        first = min((_month_index(s.start_date) for s in subscriptions), default=None)
    else:
        source = "orders"
        divisor = run_rate_months
        units = _order_units(dataset, as_of, run_rate_months)
        first_order = min(
            (o.order_date for o in dataset.orders if o.order_date <= as_of), default=None
        )
        first = None if first_order is None else _month_index(first_order) + run_rate_months - 1

    indices = range(first, last_complete + 1) if first is not None else range(0)
    movements = [_movement(units, index, has_previous=index > indices.start) for index in indices]
    months = [_mrr_month(movement, divisor) for movement in movements]
    trailing = [m.previous for m in movements if m.previous is not None][-TRAILING_MONTHS:]
    annual = None
    if first is not None and last_complete - 12 >= first:
        base = {
            cid: by_month[last_complete - 12]
            for cid, by_month in units.items()
            if by_month.get(last_complete - 12, 0) > 0
        }
        retained = sum(units[cid].get(last_complete, 0) for cid in base)
        annual = ratio(retained, sum(base.values()))
    return RecurringRevenueReport(
        as_of=as_of,
        source=source,
        run_rate_months=run_rate_months if source == "orders" else None,
        months=tuple(months),
        latest=months[-1] if months else None,
        trailing_3_months_customer_churn=ratio(
            sum(c.churned_customers for c in trailing), sum(c.customers_before for c in trailing)
        ),
        trailing_3_months_revenue_churn=ratio(
            sum(c.churned + c.contraction for c in trailing), sum(c.mrr_before for c in trailing)
        ),
        annual_net_revenue_retention=annual,
    )


# Per customer, per month index (year * 12 + month - 1): MRR in cents x the divisor, so that
# order-based MRR stays an exact integer until it is reported.
_Units = dict[str, dict[int, int]]


@dataclass
class _Change:
    """What moved between the month before and this one, in MRR units."""

    customers_before: int = 0
    mrr_before: int = 0
    new: int = 0
    expansion: int = 0
    contraction: int = 0
    churned: int = 0
    churned_customers: int = 0
    retained: int = 0  # this month's MRR of the month before's customers


@dataclass(frozen=True)
class _Movement:
    index: int
    mrr: int
    customers: int
    previous: _Change | None  # None for the first month of the series


def _movement(units: _Units, index: int, has_previous: bool) -> _Movement:
    mrr = 0
    customers = 0
    change = _Change()
    for by_month in units.values():
        now, before = by_month.get(index, 0), by_month.get(index - 1, 0)
        if now > 0:
            mrr += now
            customers += 1
        if before > 0:
            change.customers_before += 1
            change.mrr_before += before
            change.retained += now
            if now == 0:
                change.churned += before
                change.churned_customers += 1
            elif now > before:
                change.expansion += now - before
            else:
                change.contraction += before - now
        elif now > 0:
            change.new += now
    return _Movement(index, mrr, customers, previous=change if has_previous else None)


def _mrr_month(movement: _Movement, divisor: int) -> MrrMonth:
    def cents(value: int) -> int:
        return divide_cents(value, divisor) or 0

    change = movement.previous
    mrr_cents = cents(movement.mrr)
    return MrrMonth(
        month=_month_label(movement.index),
        mrr_cents=mrr_cents,
        arr_cents=12 * mrr_cents,
        customers=movement.customers,
        arpu_cents=divide_cents(mrr_cents, movement.customers),
        mrr_growth=growth(movement.mrr, change.mrr_before) if change else None,
        new_mrr_cents=cents(change.new) if change else None,
        expansion_mrr_cents=cents(change.expansion) if change else None,
        contraction_mrr_cents=cents(change.contraction) if change else None,
        churned_mrr_cents=cents(change.churned) if change else None,
        churned_customers=change.churned_customers if change else None,
        customer_churn_rate=(
            ratio(change.churned_customers, change.customers_before) if change else None
        ),
        revenue_churn_rate=(
            ratio(change.churned + change.contraction, change.mrr_before) if change else None
        ),
        net_revenue_retention=ratio(change.retained, change.mrr_before) if change else None,
    )


def _subscription_units(subscriptions: Sequence[Subscription], last_index: int) -> _Units:
    units: _Units = {}
    for subscription in subscriptions:
        by_month = units.setdefault(subscription.customer_id, {})
        index = _month_index(subscription.start_date)
        while index <= last_index:
            month_end = _month_end(index)
            if subscription.end_date is not None and subscription.end_date <= month_end:
                break
            if subscription.start_date <= month_end:
                by_month[index] = by_month.get(index, 0) + subscription.monthly_amount_cents
            index += 1
    return units


def _order_units(dataset: Dataset, as_of: date, window: int) -> _Units:
    revenue: dict[str, dict[int, int]] = {}
    for order in dataset.orders:
        if order.order_date <= as_of:
            by_month = revenue.setdefault(order.customer_id, {})
            index = _month_index(order.order_date)
            by_month[index] = by_month.get(index, 0) + order.amount_cents
    units: _Units = {}
    for customer_id, by_month in revenue.items():
        windowed: dict[int, int] = {}
        # A month's revenue counts towards the window of it and the window - 1 months after.
        for index, cents in by_month.items():
            for offset in range(window):
                windowed[index + offset] = windowed.get(index + offset, 0) + cents
        units[customer_id] = windowed
    return units


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_label(index: int) -> str:
    return month_key(date(index // 12, index % 12 + 1, 1))


def _month_end(index: int) -> date:
    first = date(index // 12, index % 12 + 1, 1)
    return add_months(first, 1) - timedelta(days=1)
