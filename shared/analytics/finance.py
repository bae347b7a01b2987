"""Finance analytics: revenue per calendar month and how it is trending.

A month is *complete* when its last day is on or before `as_of` (the data set's date);
growth figures quoted as "latest" use complete months only, so a half-finished month never
looks like a collapse. Orders dated after `as_of` are ignored.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.analytics._numbers import add_months, divide_cents, growth, month_start
from shared.core.dataset import Dataset, month_key

TRAILING_MONTHS = 3


class MonthlyRevenue(BaseModel):
    """Revenue of one calendar month."""

    model_config = ConfigDict(frozen=True)
    month: str  # "YYYY-MM"
    revenue_cents: int
    order_count: int
    average_order_value_cents: int | None  # None when the month has no orders
    growth_vs_previous_month: float | None  # None for the first month or after a zero month
    complete: bool


class FinanceReport(BaseModel):
    """Monthly revenue, the latest complete month, and trailing-quarter momentum."""

    model_config = ConfigDict(frozen=True)
    as_of: date
    currency: Literal["EUR"] = "EUR"
    months: tuple[MonthlyRevenue, ...]  # oldest first, gaps filled with zero months
    total_revenue_cents: int
    total_orders: int
    average_order_value_cents: int | None
    latest_complete_month: MonthlyRevenue | None
    latest_complete_month_growth: float | None
    trailing_3_months: tuple[str, ...]  # the months summed, oldest first; () if not covered
    trailing_3_months_revenue_cents: int | None
    previous_3_months: tuple[str, ...]
    previous_3_months_revenue_cents: int | None
    trailing_3_months_growth: float | None


def revenue_by_month(dataset: Dataset) -> FinanceReport:
    """Revenue, order count, average order value and growth per calendar month."""
    as_of = dataset.as_of
    orders = [order for order in dataset.orders if order.order_date <= as_of]
    revenue: dict[str, int] = {}
    counts: dict[str, int] = {}
    for order in orders:
        key = month_key(order.order_date)
        revenue[key] = revenue.get(key, 0) + order.amount_cents
        counts[key] = counts.get(key, 0) + 1

    months: list[MonthlyRevenue] = []
    if orders:
        first_month = month_start(min(order.order_date for order in orders))
        month = first_month
        previous_revenue: int | None = None
        while month <= as_of:
            key = month_key(month)
            month_revenue = revenue.get(key, 0)
            month_orders = counts.get(key, 0)
            months.append(
                MonthlyRevenue(
                    month=key,
                    revenue_cents=month_revenue,
                    order_count=month_orders,
                    average_order_value_cents=divide_cents(month_revenue, month_orders),
                    growth_vs_previous_month=growth(month_revenue, previous_revenue),
                    complete=add_months(month, 1) - timedelta(days=1) <= as_of,
                )
            )
            previous_revenue = month_revenue
            month = add_months(month, 1)

    complete_months = [month for month in months if month.complete]
    latest = complete_months[-1] if complete_months else None
    trailing = complete_months[-TRAILING_MONTHS:]
    previous = complete_months[-2 * TRAILING_MONTHS : -TRAILING_MONTHS]
    # A window only counts when the data covers all of it; a partial window would fake growth.
    trailing_revenue = _window_revenue(trailing)
    previous_revenue_total = _window_revenue(previous)
    total_revenue = sum(revenue.values())
    return FinanceReport(
        as_of=as_of,
        months=tuple(months),
        total_revenue_cents=total_revenue,
        total_orders=len(orders),
        average_order_value_cents=divide_cents(total_revenue, len(orders)),
        latest_complete_month=latest,
        latest_complete_month_growth=latest.growth_vs_previous_month if latest else None,
        trailing_3_months=tuple(m.month for m in trailing) if trailing_revenue is not None else (),
        trailing_3_months_revenue_cents=trailing_revenue,
        previous_3_months=(
            tuple(m.month for m in previous) if previous_revenue_total is not None else ()
        ),
        previous_3_months_revenue_cents=previous_revenue_total,
        trailing_3_months_growth=(
            growth(trailing_revenue, previous_revenue_total)
            if trailing_revenue is not None
            else None
        ),
    )


def _window_revenue(window: list[MonthlyRevenue]) -> int | None:
    if len(window) < TRAILING_MONTHS:
        return None
    return sum(month.revenue_cents for month in window)
