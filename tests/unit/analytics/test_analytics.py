"""The pure analytics, checked against small data sets whose answers are worked out by hand."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.adapters.sample_source import generate_sample_dataset
from shared.analytics import (
    channel_performance,
    customer_segments,
    revenue_by_month,
    ticket_summary,
)
from shared.analytics._numbers import divide_cents, percentile
from shared.core.dataset import (
    AcquisitionChannel,
    ChannelSpend,
    Customer,
    Dataset,
    Order,
    SupportTicket,
    TicketCategory,
    TicketPriority,
)

REPO = Path(__file__).resolve().parents[3]


def customer(
    customer_id: str, signup: date, channel: AcquisitionChannel = "search", name: str = "Ada Test"
) -> Customer:
    return Customer(
        customer_id=customer_id,
        name=name,
        email=f"{customer_id}@example.com",
        country="DE",
        signup_date=signup,
        acquisition_channel=channel,
        plan="basic",
    )


def order(customer_id: str, day: date, cents: int) -> Order:
    return Order(
        order_id=f"ord_{customer_id}_{day.isoformat()}_{cents}",
        customer_id=customer_id,
        order_date=day,
        amount_cents=cents,
    )


def ticket(
    created_at: datetime,
    category: TicketCategory,
    priority: TicketPriority,
    minutes: int,
    resolved: bool,
    csat: int | None = None,
) -> SupportTicket:
    return SupportTicket(
        ticket_id=f"tkt_{created_at.isoformat()}",
        customer_id="cus_1",
        created_at=created_at,
        contact_channel="email",
        category=category,
        priority=priority,
        first_response_minutes=minutes,
        resolved=resolved,
        csat=csat,
    )


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


# --- shared arithmetic ------------------------------------------------------------------


def test_divide_cents_rounds_half_up_and_refuses_zero() -> None:
    assert divide_cents(301, 3) == 100  # 100.33
    assert divide_cents(3, 2) == 2  # 1.5
    assert divide_cents(5, 2) == 3  # 2.5: half up, not to even
    assert divide_cents(0, 4) == 0
    assert divide_cents(100, 0) is None


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([10, 20, 30, 50, 100, 200, 400], 0.5) == 50
    assert percentile([400, 10, 200, 30, 100, 20, 50], 0.9) == 280  # 200 + 0.4 * 200
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None


# --- finance ------------------------------------------------------------------------------


def test_revenue_by_month_by_hand() -> None:
    dataset = Dataset(
        as_of=date(2026, 3, 15),
        orders=(
            order("c1", date(2026, 1, 5), 1000),
            order("c2", date(2026, 1, 31), 3000),
            order("c1", date(2026, 2, 10), 5000),
            order("c2", date(2026, 3, 1), 1500),
            order("c2", date(2026, 3, 20), 99999),  # after as_of: ignored
        ),
    )

    report = revenue_by_month(dataset)

    jan, feb, mar = report.months
    assert (jan.month, jan.revenue_cents, jan.order_count) == ("2026-01", 4000, 2)
    assert jan.average_order_value_cents == 2000
    assert jan.growth_vs_previous_month is None
    assert (feb.month, feb.revenue_cents, feb.growth_vs_previous_month) == ("2026-02", 5000, 0.25)
    assert (mar.revenue_cents, mar.growth_vs_previous_month) == (1500, -0.7)
    assert [m.complete for m in report.months] == [True, True, False]
    assert report.latest_complete_month == feb
    assert report.latest_complete_month_growth == 0.25
    assert report.total_revenue_cents == 10500
    assert report.total_orders == 4
    assert report.average_order_value_cents == 2625
    # Only two complete months: neither three-month window is covered.
    assert report.trailing_3_months_revenue_cents is None
    assert report.previous_3_months_revenue_cents is None
    assert report.trailing_3_months_growth is None
    assert report.trailing_3_months == ()


def test_months_without_orders_are_filled_with_zero() -> None:
    dataset = Dataset(
        as_of=date(2026, 4, 30),  # the last day of April: April is complete
        orders=(order("c1", date(2026, 1, 10), 2000), order("c1", date(2026, 3, 10), 800)),
    )

    report = revenue_by_month(dataset)

    assert [m.month for m in report.months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [m.revenue_cents for m in report.months] == [2000, 0, 800, 0]
    assert report.months[1].average_order_value_cents is None
    assert report.months[1].growth_vs_previous_month == -1.0
    assert report.months[2].growth_vs_previous_month is None  # growth from zero is undefined
    assert report.months[3].growth_vs_previous_month == -1.0
    assert all(m.complete for m in report.months)
    assert report.latest_complete_month is not None
    assert report.latest_complete_month.month == "2026-04"


def test_trailing_three_months_against_the_three_before() -> None:
    monthly = [100, 200, 300, 400, 500, 600]
    dataset = Dataset(
        as_of=date(2026, 7, 10),
        orders=(
            *(order("c1", date(2026, m, 15), cents) for m, cents in enumerate(monthly, 1)),
            order("c1", date(2026, 7, 2), 50),  # July is not complete on 10 July
        ),
    )

    report = revenue_by_month(dataset)

    assert report.trailing_3_months == ("2026-04", "2026-05", "2026-06")
    assert report.trailing_3_months_revenue_cents == 1500
    assert report.previous_3_months == ("2026-01", "2026-02", "2026-03")
    assert report.previous_3_months_revenue_cents == 600
    assert report.trailing_3_months_growth == 1.5
    assert report.latest_complete_month is not None
    assert report.latest_complete_month.month == "2026-06"
    assert report.latest_complete_month_growth == 0.2


def test_five_complete_months_cover_only_the_trailing_window() -> None:
    dataset = Dataset(
        as_of=date(2026, 6, 3),
        orders=tuple(order("c1", date(2026, m, 15), 100) for m in range(1, 6)),
    )

    report = revenue_by_month(dataset)

    assert report.trailing_3_months_revenue_cents == 300
    assert report.previous_3_months_revenue_cents is None
    assert report.trailing_3_months_growth is None


def test_one_month_only() -> None:
    dataset = Dataset(
        as_of=date(2026, 2, 28),
        orders=(order("c1", date(2026, 2, 1), 700), order("c2", date(2026, 2, 27), 300)),
    )

    report = revenue_by_month(dataset)

    assert len(report.months) == 1
    assert report.latest_complete_month == report.months[0]
    assert report.months[0].average_order_value_cents == 500
    assert report.latest_complete_month_growth is None


def test_finance_on_an_empty_dataset() -> None:
    report = revenue_by_month(Dataset(as_of=date(2026, 1, 1)))

    assert report.months == ()
    assert report.total_revenue_cents == 0
    assert report.average_order_value_cents is None
    assert report.latest_complete_month is None
    assert report.latest_complete_month_growth is None
    assert report.trailing_3_months_growth is None


# --- marketing ----------------------------------------------------------------------------


def _marketing_dataset() -> Dataset:
    return Dataset(
        as_of=date(2026, 2, 28),
        customers=(
            customer("c1", date(2026, 1, 10), "search"),
            customer("c2", date(2026, 2, 1), "search"),
            customer("c3", date(2026, 1, 20), "social"),
            customer("c4", date(2025, 12, 20), "email"),  # before the spend: not acquired by it
            customer("c5", date(2026, 3, 5), "search"),  # after as_of
        ),
        orders=(
            order("c1", date(2026, 1, 10), 6000),
            order("c1", date(2026, 2, 10), 4000),
            order("c1", date(2026, 3, 10), 1000),  # after as_of
            order("c2", date(2026, 2, 1), 5000),
            order("c3", date(2026, 1, 20), 2000),
            order("c4", date(2026, 1, 3), 9000),
        ),
        channel_spend=(
            ChannelSpend(month="2026-01", channel="search", spend_cents=10000),
            ChannelSpend(month="2026-02", channel="search", spend_cents=20000),
            ChannelSpend(month="2026-01", channel="social", spend_cents=5000),
            ChannelSpend(month="2026-02", channel="referral", spend_cents=4000),
            ChannelSpend(month="2026-03", channel="search", spend_cents=99999),  # after as_of
        ),
    )


def test_channel_performance_by_hand() -> None:
    report = channel_performance(_marketing_dataset())

    by_channel = {row.channel: row for row in report.channels}
    assert [row.channel for row in report.channels] == ["search", "social", "email", "referral"]
    search = by_channel["search"]
    assert (search.spend_cents, search.new_customers, search.cac_cents) == (30000, 2, 15000)
    assert (search.revenue_cents, search.roas) == (15000, 0.5)
    social = by_channel["social"]
    assert (social.spend_cents, social.new_customers, social.cac_cents) == (5000, 1, 5000)
    assert (social.revenue_cents, social.roas) == (2000, 0.4)
    assert report.attribution_start == date(2026, 1, 1)
    assert report.total_spend_cents == 39000
    assert report.total_new_customers == 3
    assert report.blended_cac_cents == 13000
    assert report.total_revenue_cents == 17000
    assert report.blended_roas == 0.4359  # 17000 / 39000
    assert report.best_channel == "search"
    assert report.worst_channel == "referral"


def test_channels_without_customers_or_spend_have_no_cac_or_roas() -> None:
    by_channel = {row.channel: row for row in channel_performance(_marketing_dataset()).channels}

    referral = by_channel["referral"]  # spent 4000, acquired nobody
    assert (referral.new_customers, referral.cac_cents, referral.roas) == (0, None, 0.0)
    email = by_channel["email"]  # no spend; its only customer predates the spend
    assert (email.spend_cents, email.new_customers, email.revenue_cents) == (0, 0, 0)
    assert (email.cac_cents, email.roas) == (None, None)


def test_marketing_on_an_empty_dataset() -> None:
    report = channel_performance(Dataset(as_of=date(2026, 1, 1)))

    assert len(report.channels) == 4
    assert all(row.spend_cents == 0 and row.roas is None for row in report.channels)
    assert report.attribution_start is None
    assert report.blended_cac_cents is None
    assert report.blended_roas is None
    assert report.best_channel is None
    assert report.worst_channel is None


# --- insights -----------------------------------------------------------------------------

INSIGHTS_AS_OF = date(2026, 6, 30)


def _rfm_dataset() -> Dataset:
    """Five buyers whose R, F and M ranks differ, so each lands in a different segment.

    recency days: a 2, b 20, c 60, d 120, e 180  -> R scores 5 4 3 2 1
    orders:       d 6, a 5, c 4, b 2, e 1        -> F scores d5 a4 c3 b2 e1
    value (EUR):  a 500, d 300, c 100, b 60, e 10 -> M scores a5 d4 c3 b2 e1
    """
    months = (2, 3, 4, 5)
    return Dataset(
        as_of=INSIGHTS_AS_OF,
        customers=(
            customer("a", date(2025, 12, 1), name="Alice"),
            customer("b", date(2025, 12, 1), name="Bob"),
            customer("c", date(2025, 12, 1), name="Carla"),
            customer("d", date(2025, 12, 1), name="Dario"),
            customer("e", date(2025, 12, 1), name="Eva"),
            customer("f", date(2026, 1, 1), name="Finn"),  # never ordered
            customer("g", date(2026, 7, 2), name="Gus"),  # signed up after as_of
        ),
        orders=(
            *(order("a", date(2026, m, 1), 10000) for m in months),
            order("a", date(2026, 6, 28), 10000),
            order("a", date(2026, 7, 5), 10000),  # after as_of: ignored
            order("b", date(2026, 3, 1), 3000),
            order("b", date(2026, 6, 10), 3000),
            *(order("c", date(2026, m, 1), 2500) for m in months),
            *(
                order("d", day, 5000)
                for day in (
                    date(2026, 1, 2),
                    date(2026, 1, 10),
                    date(2026, 1, 20),
                    date(2026, 2, 1),
                    date(2026, 2, 15),
                    date(2026, 3, 2),
                )
            ),
            order("e", date(2026, 1, 1), 1000),
        ),
    )


def test_rfm_scores_and_segments_by_hand() -> None:
    report = customer_segments(_rfm_dataset(), INSIGHTS_AS_OF)

    rows = {row.customer_id: row for row in report.customers}
    assert [row.customer_id for row in report.customers] == ["a", "b", "c", "d", "e"]
    assert {cid: (r.recency_days, r.frequency, r.monetary_cents) for cid, r in rows.items()} == {
        "a": (2, 5, 50000),
        "b": (20, 2, 6000),
        "c": (60, 4, 10000),
        "d": (120, 6, 30000),
        "e": (180, 1, 1000),
    }
    scores = {
        cid: (r.recency_score, r.frequency_score, r.monetary_score) for cid, r in rows.items()
    }
    assert scores == {
        "a": (5, 4, 5),
        "b": (4, 2, 2),
        "c": (3, 3, 3),
        "d": (2, 5, 4),
        "e": (1, 1, 1),
    }
    assert {cid: r.segment for cid, r in rows.items()} == {
        "a": "champions",
        "b": "promising",
        "c": "loyal",
        "d": "at_risk",
        "e": "hibernating",
    }
    counts = {s.segment: (s.customer_count, s.share_of_customers) for s in report.segments}
    assert counts == {
        "champions": (1, 0.2),
        "loyal": (1, 0.2),
        "promising": (1, 0.2),
        "new": (0, 0.0),
        "at_risk": (1, 0.2),
        "hibernating": (1, 0.2),
    }
    revenue = {s.segment: s.revenue_cents for s in report.segments}
    assert revenue["champions"] == 50000
    assert revenue["at_risk"] == 30000


def test_churned_customers_by_hand() -> None:
    report = customer_segments(_rfm_dataset(), INSIGHTS_AS_OF, churn_after_days=90)

    assert report.customer_count == 6  # g signed up after as_of
    assert report.customers_with_orders == 5  # f never ordered
    assert report.churned_count == 2
    assert report.churn_rate == 0.4
    assert report.churned_lifetime_value_cents == 31000
    assert [(c.customer_id, c.name, c.lifetime_value_cents) for c in report.top_churned] == [
        ("d", "Dario", 30000),
        ("e", "Eva", 1000),
    ]
    dario = report.top_churned[0]
    assert dario.email == "d@example.com"
    assert (dario.last_order_date, dario.days_since_last_order) == (date(2026, 3, 2), 120)
    assert dario.order_count == 6


def test_churn_threshold_is_strictly_more_than_the_days() -> None:
    dataset = Dataset(
        as_of=INSIGHTS_AS_OF,
        customers=(customer("x", date(2026, 1, 1)), customer("y", date(2026, 1, 1))),
        orders=(
            order("x", INSIGHTS_AS_OF - timedelta(days=90), 100),
            order("y", INSIGHTS_AS_OF - timedelta(days=91), 100),
        ),
    )

    report = customer_segments(dataset, INSIGHTS_AS_OF, churn_after_days=90)

    assert [c.customer_id for c in report.top_churned] == ["y"]
    assert report.churn_rate == 0.5


def test_as_of_defaults_to_the_dataset_date() -> None:
    dataset = _rfm_dataset()

    assert customer_segments(dataset) == customer_segments(dataset, INSIGHTS_AS_OF)


def test_top_churned_keeps_the_twenty_most_valuable() -> None:
    long_ago = date(2025, 1, 1)
    dataset = Dataset(
        as_of=INSIGHTS_AS_OF,
        customers=tuple(customer(f"c{i:02d}", long_ago) for i in range(25)),
        orders=tuple(order(f"c{i:02d}", long_ago, (i + 1) * 100) for i in range(25)),
    )

    report = customer_segments(dataset, INSIGHTS_AS_OF)

    assert report.churned_count == 25
    assert report.churn_rate == 1.0
    assert len(report.top_churned) == 20
    assert report.top_churned[0].customer_id == "c24"
    assert report.top_churned[-1].customer_id == "c05"


def test_tied_values_share_the_middle_score() -> None:
    dataset = Dataset(
        as_of=INSIGHTS_AS_OF,
        customers=tuple(customer(f"c{i}", date(2026, 1, 1)) for i in range(4)),
        orders=tuple(order(f"c{i}", date(2026, 2, 1 + i), 100 * (i + 1)) for i in range(4)),
    )

    report = customer_segments(dataset, INSIGHTS_AS_OF)

    # Everyone has one order: mid-rank percentile 0.5 for all, score floor(2.5) + 1 = 3.
    assert {row.frequency_score for row in report.customers} == {3}
    # Four distinct values: percentiles 1/8, 3/8, 5/8, 7/8 -> scores 1, 2, 4, 5.
    assert [row.monetary_score for row in report.customers] == [1, 2, 4, 5]


def test_a_recent_first_order_makes_a_customer_new() -> None:
    first_order = INSIGHTS_AS_OF - timedelta(days=30)
    dataset = Dataset(
        as_of=INSIGHTS_AS_OF,
        customers=(customer("n", first_order),),
        orders=(order("n", first_order, 4200),),
    )

    (row,) = customer_segments(dataset, INSIGHTS_AS_OF).customers
    (older,) = customer_segments(dataset, INSIGHTS_AS_OF + timedelta(days=1)).customers

    assert (row.recency_score, row.frequency_score, row.monetary_score) == (3, 3, 3)
    assert row.segment == "new"
    assert older.segment == "loyal"  # 31 days: no longer new, and a lone buyer scores 3/3/3


def test_insights_on_an_empty_dataset() -> None:
    report = customer_segments(Dataset(as_of=INSIGHTS_AS_OF))

    assert report.customer_count == 0
    assert report.customers == ()
    assert report.churned_count == 0
    assert report.churn_rate is None
    assert report.top_churned == ()
    assert all(s.customer_count == 0 and s.share_of_customers is None for s in report.segments)


# --- support ------------------------------------------------------------------------------

SUPPORT_AS_OF = date(2026, 11, 16)  # this week: 10-16 Nov, previous week: 3-9 Nov


def _support_dataset() -> Dataset:
    return Dataset(
        as_of=SUPPORT_AS_OF,
        tickets=(
            ticket(at(date(2026, 11, 16), 10), "billing", "urgent", 10, resolved=False),
            ticket(at(date(2026, 11, 12)), "billing", "high", 30, resolved=True, csat=2),
            ticket(at(date(2026, 11, 10), 0, 30), "shipping", "normal", 50, True, csat=4),
            ticket(at(date(2026, 11, 9), 23, 59), "shipping", "low", 200, True, csat=5),
            ticket(at(date(2026, 11, 5)), "billing", "normal", 100, resolved=True),
            ticket(at(date(2026, 11, 3), 0, 0), "product", "low", 400, True, csat=3),
            ticket(at(date(2026, 11, 2)), "account", "normal", 20, resolved=False),
            ticket(at(date(2026, 11, 17), 8), "shipping", "high", 5, True, csat=1),  # future
        ),
    )


def test_overall_ticket_statistics_by_hand() -> None:
    overall = ticket_summary(_support_dataset(), SUPPORT_AS_OF).overall

    assert overall.ticket_count == 7
    assert overall.by_category == {"billing": 3, "shipping": 2, "product": 1, "account": 1}
    assert overall.by_priority == {"low": 2, "normal": 3, "high": 1, "urgent": 1}
    assert overall.median_first_response_minutes == 50  # of 10 20 30 50 100 200 400
    assert overall.p90_first_response_minutes == 280  # rank 5.4: 200 + 0.4 * (400 - 200)
    assert (overall.resolved_count, overall.unresolved_count) == (5, 2)
    assert overall.resolution_rate == 0.7143
    assert (overall.csat_responses, overall.average_csat) == (4, 3.5)
    assert overall.top_category == "billing"
    assert (overall.start, overall.end) == (None, SUPPORT_AS_OF)


def test_this_week_against_last_week_by_hand() -> None:
    report = ticket_summary(_support_dataset(), SUPPORT_AS_OF, window_days=7)

    this_week, last_week = report.this_window, report.previous_window
    assert (this_week.start, this_week.end) == (date(2026, 11, 10), date(2026, 11, 16))
    assert (last_week.start, last_week.end) == (date(2026, 11, 3), date(2026, 11, 9))
    assert this_week.ticket_count == 3
    assert this_week.by_category == {"billing": 2, "shipping": 1, "product": 0, "account": 0}
    assert this_week.median_first_response_minutes == 30
    assert this_week.p90_first_response_minutes == 46  # 30 + 0.8 * (50 - 30)
    assert this_week.resolution_rate == 0.6667
    assert this_week.average_csat == 3.0
    assert last_week.ticket_count == 3
    assert last_week.median_first_response_minutes == 200
    assert last_week.p90_first_response_minutes == 360  # 200 + 0.8 * (400 - 200)
    assert last_week.resolution_rate == 1.0
    assert last_week.average_csat == 4.0
    assert last_week.top_category == "billing"  # 1-1-1 tie goes to the first category
    trend = report.top_category_trend
    assert trend is not None
    assert (trend.category, trend.this_window_count, trend.previous_window_count) == (
        "billing",
        2,
        1,
    )
    assert trend.change == 1.0


def test_windows_are_utc_days() -> None:
    # 00:30 on 10 Nov in UTC+2 is 22:30 on 9 Nov in UTC: last week, not this week.
    plus_two = timezone(timedelta(hours=2))
    late_evening = datetime(2026, 11, 10, 0, 30, tzinfo=plus_two)
    dataset = Dataset(
        as_of=SUPPORT_AS_OF, tickets=(ticket(late_evening, "account", "low", 5, True),)
    )

    report = ticket_summary(dataset, SUPPORT_AS_OF)

    assert report.this_window.ticket_count == 0
    assert report.previous_window.ticket_count == 1
    assert report.top_category_trend is None


def test_a_category_new_this_week_has_no_relative_change() -> None:
    dataset = Dataset(
        as_of=SUPPORT_AS_OF,
        tickets=(ticket(at(SUPPORT_AS_OF), "product", "low", 5, resolved=True),),
    )

    trend = ticket_summary(dataset).top_category_trend

    assert trend is not None
    assert (trend.category, trend.previous_window_count, trend.change) == ("product", 0, None)


def test_support_on_an_empty_dataset() -> None:
    report = ticket_summary(Dataset(as_of=SUPPORT_AS_OF))

    for stats in (report.overall, report.this_window, report.previous_window):
        assert stats.ticket_count == 0
        assert stats.median_first_response_minutes is None
        assert stats.p90_first_response_minutes is None
        assert stats.resolution_rate is None
        assert stats.average_csat is None
        assert stats.top_category is None
    assert report.top_category_trend is None


def test_window_must_be_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="window_days"):
        ticket_summary(Dataset(as_of=SUPPORT_AS_OF), window_days=0)


# --- the default sample data set --------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return generate_sample_dataset()


def test_reports_agree_with_the_raw_sample_data(sample: Dataset) -> None:
    finance = revenue_by_month(sample)
    marketing = channel_performance(sample)
    insights = customer_segments(sample)
    support = ticket_summary(sample)

    assert finance.total_revenue_cents == sum(o.amount_cents for o in sample.orders)
    assert sum(m.order_count for m in finance.months) == len(sample.orders)
    assert marketing.total_spend_cents == sum(row.spend_cents for row in sample.channel_spend)
    assert marketing.total_new_customers == sum(
        1 for c in sample.customers if c.signup_date >= date(2025, 11, 1)
    )
    assert sum(s.customer_count for s in insights.segments) == insights.customers_with_orders
    assert support.overall.ticket_count == len(sample.tickets)


def test_the_numbers_the_demo_quotes(sample: Dataset) -> None:
    """Pinned on purpose: if the generator changes, update these and the demo text together."""
    finance = revenue_by_month(sample)
    marketing = channel_performance(sample)
    insights = customer_segments(sample)
    support = ticket_summary(sample)

    assert finance.latest_complete_month is not None
    assert finance.latest_complete_month.month == "2026-10"
    assert finance.latest_complete_month.revenue_cents == 1_499_485
    assert finance.latest_complete_month_growth == 0.2433
    assert finance.trailing_3_months_growth == 0.1364
    assert (marketing.best_channel, marketing.worst_channel) == ("email", "social")
    assert marketing.blended_roas == 2.971
    assert (insights.churned_count, insights.churn_rate) == (111, 0.2782)
    assert support.top_category_trend is not None
    assert support.top_category_trend.category == "billing"
    assert (support.top_category_trend.this_window_count, support.top_category_trend.change) == (
        11,
        4.5,
    )


# --- the pure core stays pure ------------------------------------------------------------

FORBIDDEN_IMPORT_PREFIXES = ("google", "shared.adapters", "shared.wiring.services")
# Heavy numeric libraries may be imported inside the functions that need them, never when the
# module is imported: every cold start of a function that imports shared.analytics pays for it.
LAZY_ONLY_IMPORT_PREFIXES = ("numpy", "pandas", "scipy", "statsmodels")
PURE_CORE_SOURCES = [
    "shared/core/dataset.py",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "shared/analytics").glob("*.py")),
]


def _imported_names(nodes: list[ast.AST]) -> list[str]:
    names = [alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names]
    return names + [node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)]


def _runs_at_import(tree: ast.Module) -> list[ast.AST]:
    """The module's statements that run when it is imported, nested ones included.

    Function bodies run only when called, and `if TYPE_CHECKING:` blocks never run.
    """
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            pending.extend(node.orelse)
            continue
        found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


@pytest.mark.parametrize("source", PURE_CORE_SOURCES)
def test_pure_core_imports_no_cloud_client_or_adapter(source: str) -> None:
    tree = ast.parse((REPO / source).read_text())

    imported = _imported_names(list(ast.walk(tree)))

    assert not [name for name in imported if name.startswith(FORBIDDEN_IMPORT_PREFIXES)]


@pytest.mark.parametrize("source", PURE_CORE_SOURCES)
def test_pure_core_loads_numeric_libraries_only_when_used(source: str) -> None:
    tree = ast.parse((REPO / source).read_text())

    imported_at_import = _imported_names(_runs_at_import(tree))

    assert not [name for name in imported_at_import if name.startswith(LAZY_ONLY_IMPORT_PREFIXES)]


def test_the_import_check_sees_module_level_imports_only() -> None:
    tree = ast.parse(
        "import numpy\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import scipy\n"
        "try:\n    import pandas\nexcept ImportError:\n    pass\n"
        "def fit():\n    import statsmodels\n"
        "class Model:\n    import polars\n    def fit(self):\n        import duckdb\n"
    )

    assert sorted(_imported_names(_runs_at_import(tree))) == [
        "numpy",
        "pandas",
        "polars",
        "typing",
    ]
