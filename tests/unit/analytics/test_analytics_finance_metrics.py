"""MRR, churn, retention, unit economics, runway and budget variance, worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from shared.adapters.sample_source import generate_sample_dataset
from shared.analytics.budget import BudgetLine, budget_variance
from shared.analytics.recurring_revenue import Subscription, recurring_revenue
from shared.analytics.unit_economics import finance_kpis, runway_months, unit_economics
from shared.core.dataset import Dataset, Order


def subscription(
    customer_id: str, start: date, cents: int, end: date | None = None
) -> Subscription:
    return Subscription(
        customer_id=customer_id, start_date=start, end_date=end, monthly_amount_cents=cents
    )


def order(customer_id: str, day: date, cents: int) -> Order:
    return Order(
        order_id=f"{customer_id}-{day}", customer_id=customer_id, order_date=day, amount_cents=cents
    )


# --- MRR from subscriptions ---------------------------------------------------------------


def _subscriptions() -> list[Subscription]:
    """Month-end MRR by customer (cents):

            Jan   Feb   Mar   Apr
    c1     1000  1000  1500  1500   (a second 500 subscription from 1 March: expansion)
    c2     2000  2000     -     -   (ends 15 March: churned in March)
    c3        -  3000  3000  1500   (swaps to a 1500 plan on 10 April: contraction)
    c4        -     -     -  1000   (new in April)
    """
    return [
        subscription("c1", date(2026, 1, 10), 1000),
        subscription("c2", date(2026, 1, 20), 2000, end=date(2026, 3, 15)),
        subscription("c3", date(2026, 2, 5), 3000, end=date(2026, 4, 10)),
        subscription("c1", date(2026, 3, 1), 500),
        subscription("c4", date(2026, 4, 2), 1000),
        subscription("c3", date(2026, 4, 10), 1500),
        subscription("c5", date(2026, 5, 3), 9999),  # starts after as_of
    ]


def test_mrr_from_subscriptions_by_hand() -> None:
    report = recurring_revenue(Dataset(as_of=date(2026, 5, 10)), _subscriptions())

    assert report.source == "subscriptions"
    assert report.run_rate_months is None
    jan, feb, mar, apr = report.months  # May is not complete on 10 May
    assert [m.month for m in report.months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [m.mrr_cents for m in report.months] == [3000, 6000, 4500, 4000]
    assert [m.customers for m in report.months] == [2, 3, 2, 3]
    assert (jan.new_mrr_cents, jan.customer_churn_rate, jan.mrr_growth) == (None, None, None)

    assert (feb.new_mrr_cents, feb.churned_mrr_cents, feb.expansion_mrr_cents) == (3000, 0, 0)
    assert (feb.customer_churn_rate, feb.net_revenue_retention, feb.mrr_growth) == (0.0, 1.0, 1.0)

    assert (mar.new_mrr_cents, mar.expansion_mrr_cents, mar.contraction_mrr_cents) == (0, 500, 0)
    assert (mar.churned_mrr_cents, mar.churned_customers) == (2000, 1)
    assert mar.customer_churn_rate == 0.3333  # c2 of c1, c2, c3
    assert mar.revenue_churn_rate == 0.3333  # 2000 churned of 6000
    assert mar.net_revenue_retention == 0.75  # (1500 + 0 + 3000) / 6000
    assert mar.mrr_growth == -0.25

    assert (apr.new_mrr_cents, apr.contraction_mrr_cents, apr.churned_mrr_cents) == (1000, 1500, 0)
    assert apr.customer_churn_rate == 0.0
    assert apr.revenue_churn_rate == 0.3333  # 1500 contraction of 4500
    assert apr.net_revenue_retention == 0.6667  # (1500 + 1500) / 4500
    assert (apr.arr_cents, apr.arpu_cents) == (48000, 1333)

    assert report.latest == apr
    assert report.trailing_3_months_customer_churn == 0.1429  # (0 + 1 + 0) / (2 + 3 + 2)
    assert report.trailing_3_months_revenue_churn == 0.2593  # (0 + 2000 + 1500) / 13500
    assert report.annual_net_revenue_retention is None  # no month twelve months back


def test_annual_net_revenue_retention() -> None:
    subscriptions = [
        subscription("kept", date(2025, 1, 1), 1000),
        subscription("grew", date(2025, 1, 1), 1000),
        subscription("grew", date(2025, 6, 1), 500),
        subscription("left", date(2025, 1, 1), 2000, end=date(2025, 8, 1)),
        subscription("new", date(2025, 12, 1), 7000),  # not in the base twelve months back
    ]

    report = recurring_revenue(Dataset(as_of=date(2026, 1, 31)), subscriptions)

    # January 2025's customers paid 4000 then and 2500 in January 2026.
    assert report.annual_net_revenue_retention == 0.625


# --- MRR from orders ----------------------------------------------------------------------


def test_mrr_from_orders_is_the_trailing_run_rate() -> None:
    dataset = Dataset(
        as_of=date(2026, 4, 30),
        orders=(
            *(order("c1", date(2026, month, 10), 1000) for month in (1, 2, 3, 4)),
            order("c2", date(2026, 1, 5), 3000),
            order("c2", date(2026, 3, 5), 1000),
            order("c3", date(2026, 2, 15), 2000),
        ),
    )

    report = recurring_revenue(dataset, run_rate_months=2)

    # Two-month windows: Feb c1 2000 c2 3000 c3 2000; Mar 2000 1000 2000; Apr 2000 1000 0.
    assert report.source == "orders"
    assert report.run_rate_months == 2
    feb, mar, apr = report.months  # January's window starts before the data
    assert [m.month for m in report.months] == ["2026-02", "2026-03", "2026-04"]
    assert [m.mrr_cents for m in report.months] == [3500, 2500, 1500]
    assert (feb.customers, feb.arpu_cents, feb.churned_customers) == (3, 1167, None)
    assert (mar.contraction_mrr_cents, mar.churned_mrr_cents) == (1000, 0)
    assert mar.net_revenue_retention == 0.7143  # 5000 / 7000
    assert (apr.churned_customers, apr.churned_mrr_cents) == (1, 1000)  # c3: no order Mar-Apr
    assert apr.customer_churn_rate == 0.3333
    assert apr.revenue_churn_rate == 0.4  # 2000 / 5000 in window units
    assert apr.net_revenue_retention == 0.6


def test_no_orders_no_months() -> None:
    report = recurring_revenue(Dataset(as_of=date(2026, 4, 30)))

    assert report.months == ()
    assert report.latest is None
    assert report.trailing_3_months_customer_churn is None


# --- unit economics, runway -----------------------------------------------------------------


def test_unit_economics_by_hand() -> None:
    economics = unit_economics(
        arpu_cents=5000,
        monthly_customer_churn=0.05,
        gross_margin=0.8,
        marketing_spend_cents=1_000_000,
        new_customers=50,
        attributed_revenue_cents=2_500_000,
        cash_cents=12_000_000,
        monthly_net_burn_cents=1_000_000,
    )

    assert economics.ltv_cents == 80_000  # 5000 x 0.8 / 0.05
    assert economics.expected_lifetime_months == 20.0
    assert economics.cac_cents == 20_000
    assert economics.ltv_to_cac == 4.0
    assert economics.payback_months == 5.0  # 20000 / (5000 x 0.8)
    assert economics.roas == 2.5
    assert economics.runway_months == 12.0


def test_undefined_unit_economics_are_none() -> None:
    economics = unit_economics(
        arpu_cents=None,
        monthly_customer_churn=0.0,
        gross_margin=0.5,
        marketing_spend_cents=0,
        new_customers=0,
        attributed_revenue_cents=0,
    )

    assert economics.ltv_cents is None
    assert economics.cac_cents is None
    assert economics.payback_months is None
    assert economics.roas is None
    assert economics.runway_months is None


def test_runway() -> None:
    assert runway_months(5_000_000, 1_500_000) == 3.3
    assert runway_months(5_000_000, 0) is None  # not burning
    assert runway_months(5_000_000, -200_000) is None  # cash growing


def test_gross_margin_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="gross_margin"):
        unit_economics(
            arpu_cents=1,
            monthly_customer_churn=0.1,
            gross_margin=60,
            marketing_spend_cents=0,
            new_customers=0,
            attributed_revenue_cents=0,
        )


def test_finance_kpis_agree_with_their_parts() -> None:
    dataset = generate_sample_dataset()

    kpis = finance_kpis(dataset, gross_margin=0.6, cash_cents=10_000_000, monthly_net_burn_cents=0)

    latest = kpis.recurring.latest
    assert latest is not None
    assert kpis.recurring.source == "orders"
    assert (kpis.mrr_cents, kpis.arr_cents) == (latest.mrr_cents, 12 * latest.mrr_cents)
    assert kpis.revenue_growth_latest_month == 0.2433  # as revenue_by_month pins it
    economics = kpis.unit_economics
    assert economics.arpu_cents == latest.arpu_cents
    assert economics.monthly_customer_churn == kpis.customer_churn_trailing_3_months
    assert economics.roas == 2.971  # channel_performance's blended ROAS
    assert economics.runway_months is None


# --- budget vs actual ---------------------------------------------------------------------


def test_budget_variance_by_hand() -> None:
    report = budget_variance(
        [
            BudgetLine(category="marketing", budget_cents=10_000, actual_cents=12_000),
            BudgetLine(category="salaries", budget_cents=50_000, actual_cents=49_000),
            BudgetLine(category="sales", kind="revenue", budget_cents=100_000, actual_cents=90_000),
            BudgetLine(category="tooling", budget_cents=0, actual_cents=500),
        ]
    )

    marketing, salaries, sales, tooling = report.lines
    assert (marketing.variance_cents, marketing.variance_share) == (2000, 0.2)
    assert (marketing.favourable, marketing.material) == (False, True)
    assert (salaries.variance_cents, salaries.variance_share) == (-1000, -0.02)
    assert (salaries.favourable, salaries.material) == (True, False)  # 2 % < 5 %
    assert (sales.variance_cents, sales.favourable, sales.material) == (-10_000, False, True)
    assert (tooling.variance_share, tooling.favourable, tooling.material) == (None, False, True)
    assert (report.budget_expenses_cents, report.actual_expenses_cents) == (60_000, 61_500)
    assert (report.budget_net_cents, report.actual_net_cents) == (40_000, 28_500)
    assert report.net_variance_cents == -11_500
    assert report.material_lines == ("sales", "marketing", "tooling")


def test_materiality_is_inclusive_and_exact() -> None:
    lines = [
        BudgetLine(category="on the line", budget_cents=10_000, actual_cents=10_500),
        BudgetLine(category="just under", budget_cents=10_000, actual_cents=10_499),
        BudgetLine(category="on budget", budget_cents=10_000, actual_cents=10_000),
    ]

    report = budget_variance(lines, materiality=0.05)

    assert [line.material for line in report.lines] == [True, False, False]
    assert report.lines[2].favourable is None
