"""Unit economics and runway: what a customer is worth, what one costs, and how long cash lasts.

The formulas, all per month, with every input an explicit argument:

| figure          | formula                                                               |
| --------------- | --------------------------------------------------------------------- |
| LTV             | ARPU x gross margin / monthly customer churn (a geometric lifetime)   |
| CAC             | marketing spend / new customers                                       |
| LTV:CAC         | LTV / CAC                                                             |
| payback months  | CAC / (ARPU x gross margin)                                           |
| ROAS            | revenue attributed to the spend / the spend                           |
| runway months   | cash / monthly net burn; None when nothing is burnt (cash is not shrinking) |

`finance_kpis` fills them in from a data set: ARPU from the latest complete month of
`recurring_revenue`, churn pooled over its trailing three months, CAC and ROAS blended over
`channel_performance`'s attribution period, and revenue growth from `revenue_by_month`.
Undefined figures (nothing to divide by) are None, never 0. Months (lifetime, payback, runway)
are rounded to one decimal, ratios to four, money to whole cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.analytics._numbers import divide_cents, ratio
from shared.analytics.finance import revenue_by_month
from shared.analytics.marketing import channel_performance
from shared.analytics.recurring_revenue import (
    DEFAULT_RUN_RATE_MONTHS,
    RecurringRevenueReport,
    Subscription,
    recurring_revenue,
)
from shared.core.dataset import Dataset


class UnitEconomics(BaseModel):
    """LTV, CAC, payback, ROAS and runway from explicit monthly inputs."""

    model_config = ConfigDict(frozen=True)
    arpu_cents: int | None  # monthly revenue per customer
    gross_margin: float  # share of revenue left after the cost of serving it
    monthly_customer_churn: float | None
    expected_lifetime_months: float | None  # 1 / churn
    ltv_cents: int | None
    marketing_spend_cents: int
    new_customers: int
    cac_cents: int | None
    ltv_to_cac: float | None
    payback_months: float | None
    attributed_revenue_cents: int
    roas: float | None
    cash_cents: int | None  # None when not given
    monthly_net_burn_cents: int | None  # cash out minus cash in; None when not given
    runway_months: float | None  # None when not given or not burning


class FinanceKpis(BaseModel):
    """The finance agent's headline figures for a data set."""

    model_config = ConfigDict(frozen=True)
    as_of: date
    currency: Literal["EUR"] = "EUR"
    mrr_cents: int | None  # latest complete month
    arr_cents: int | None
    revenue_growth_latest_month: float | None  # latest complete month vs the one before
    revenue_growth_trailing_3_months: float | None
    customer_churn_trailing_3_months: float | None
    revenue_churn_trailing_3_months: float | None
    net_revenue_retention_latest_month: float | None
    annual_net_revenue_retention: float | None
    unit_economics: UnitEconomics
    recurring: RecurringRevenueReport


def runway_months(cash_cents: int, monthly_net_burn_cents: int) -> float | None:
    """Months until cash runs out at the current net burn; None when not burning."""
    if monthly_net_burn_cents <= 0:
        return None
    return round(cash_cents / monthly_net_burn_cents, 1)


def unit_economics(
    *,
    arpu_cents: int | None,
    monthly_customer_churn: float | None,
    gross_margin: float,
    marketing_spend_cents: int,
    new_customers: int,
    attributed_revenue_cents: int,
    cash_cents: int | None = None,
    monthly_net_burn_cents: int | None = None,
) -> UnitEconomics:
    """LTV, CAC, LTV:CAC, payback months, ROAS and runway from the given inputs."""
    if not 0 < gross_margin <= 1:
        raise ValueError(f"gross_margin must be in (0, 1], got {gross_margin}")
    margin_per_month = None if arpu_cents is None else arpu_cents * gross_margin
    ltv = None
    lifetime = None
    if margin_per_month is not None and monthly_customer_churn:
        ltv = round(margin_per_month / monthly_customer_churn)
        lifetime = round(1 / monthly_customer_churn, 1)
    cac = divide_cents(marketing_spend_cents, new_customers)
    payback = None
    if cac is not None and margin_per_month:
        payback = round(cac / margin_per_month, 1)
    runway = None
    if cash_cents is not None and monthly_net_burn_cents is not None:
        runway = runway_months(cash_cents, monthly_net_burn_cents)
    return UnitEconomics(
        arpu_cents=arpu_cents,
        gross_margin=gross_margin,
        monthly_customer_churn=monthly_customer_churn,
        expected_lifetime_months=lifetime,
        ltv_cents=ltv,
        marketing_spend_cents=marketing_spend_cents,
        new_customers=new_customers,
        cac_cents=cac,
        ltv_to_cac=ratio(ltv, cac) if ltv is not None and cac is not None else None,
        payback_months=payback,
        attributed_revenue_cents=attributed_revenue_cents,
        roas=ratio(attributed_revenue_cents, marketing_spend_cents),
        cash_cents=cash_cents,
        monthly_net_burn_cents=monthly_net_burn_cents,
        runway_months=runway,
    )


def finance_kpis(
    dataset: Dataset,
    *,
    gross_margin: float,
    subscriptions: Sequence[Subscription] = (),
    cash_cents: int | None = None,
    monthly_net_burn_cents: int | None = None,
    run_rate_months: int = DEFAULT_RUN_RATE_MONTHS,
) -> FinanceKpis:
    """MRR/ARR, growth, churn, retention and unit economics of a data set as of its date."""
    recurring = recurring_revenue(dataset, subscriptions, run_rate_months=run_rate_months)
    revenue = revenue_by_month(dataset)
    marketing = channel_performance(dataset)
    latest = recurring.latest
    economics = unit_economics(
        arpu_cents=latest.arpu_cents if latest else None,
        monthly_customer_churn=recurring.trailing_3_months_customer_churn,
        gross_margin=gross_margin,
        marketing_spend_cents=marketing.total_spend_cents,
        new_customers=marketing.total_new_customers,
        attributed_revenue_cents=marketing.total_revenue_cents,
        cash_cents=cash_cents,
        monthly_net_burn_cents=monthly_net_burn_cents,
    )
    return FinanceKpis(
        as_of=dataset.as_of,
        mrr_cents=latest.mrr_cents if latest else None,
        arr_cents=latest.arr_cents if latest else None,
        revenue_growth_latest_month=revenue.latest_complete_month_growth,
        revenue_growth_trailing_3_months=revenue.trailing_3_months_growth,
        customer_churn_trailing_3_months=recurring.trailing_3_months_customer_churn,
        revenue_churn_trailing_3_months=recurring.trailing_3_months_revenue_churn,
        net_revenue_retention_latest_month=latest.net_revenue_retention if latest else None,
        annual_net_revenue_retention=recurring.annual_net_revenue_retention,
        unit_economics=economics,
        recurring=recurring,
    )
