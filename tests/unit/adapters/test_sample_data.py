"""The bundled sample data set: deterministic, internally consistent, and plausible."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from time import perf_counter

import pytest

from shared.adapters.sample_source import generate_sample_dataset
from shared.core.dataset import ACQUISITION_CHANNELS, Dataset, month_key

AS_OF = date(2026, 11, 16)
PERIOD_START = date(2025, 11, 1)  # first day of the month twelve months before AS_OF's month


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate_sample_dataset()


def test_same_arguments_give_byte_identical_datasets() -> None:
    first = generate_sample_dataset(as_of=AS_OF, seed=7, customers=400)
    second = generate_sample_dataset(as_of=AS_OF, seed=7, customers=400)

    assert first == second
    assert first.model_dump_json() == second.model_dump_json()


def test_defaults_are_as_documented(dataset: Dataset) -> None:
    assert dataset.as_of == AS_OF
    assert dataset.seed == 7
    assert len(dataset.customers) == 400


def test_a_different_seed_gives_a_different_dataset(dataset: Dataset) -> None:
    other = generate_sample_dataset(seed=8)

    assert other.orders != dataset.orders
    assert other.customers != dataset.customers
    assert other.tickets != dataset.tickets


def test_generation_is_fast() -> None:
    started = perf_counter()
    generate_sample_dataset()
    elapsed = perf_counter() - started

    assert elapsed < 0.5


def test_every_date_lies_inside_the_period(dataset: Dataset) -> None:
    end_of_as_of = datetime.combine(AS_OF, time(23, 59, 59), UTC)
    start_of_period = datetime.combine(PERIOD_START, time(0, 0), UTC)

    assert all(PERIOD_START <= order.order_date <= AS_OF for order in dataset.orders)
    assert all(customer.signup_date <= AS_OF for customer in dataset.customers)
    assert all(start_of_period <= t.created_at <= end_of_as_of for t in dataset.tickets)
    assert min(order.order_date for order in dataset.orders) == PERIOD_START
    assert max(order.order_date for order in dataset.orders) <= AS_OF


def test_orders_and_tickets_belong_to_existing_customers(dataset: Dataset) -> None:
    signup_by_id = {customer.customer_id: customer.signup_date for customer in dataset.customers}

    assert all(order.customer_id in signup_by_id for order in dataset.orders)
    assert all(order.order_date >= signup_by_id[order.customer_id] for order in dataset.orders)
    assert all(ticket.customer_id in signup_by_id for ticket in dataset.tickets)


def test_ids_and_emails_are_unique(dataset: Dataset) -> None:
    customer_ids = [customer.customer_id for customer in dataset.customers]
    emails = [customer.email for customer in dataset.customers]
    order_ids = [order.order_id for order in dataset.orders]
    ticket_ids = [ticket.ticket_id for ticket in dataset.tickets]

    assert len(set(customer_ids)) == len(customer_ids)
    assert len(set(emails)) == len(emails)
    assert len(set(order_ids)) == len(order_ids)
    assert len(set(ticket_ids)) == len(ticket_ids)
    # Reserved example domains only: the demo sends win-back mails to these addresses.
    assert all(email.split("@")[1].startswith("example.") for email in emails)


def test_orders_are_positive_euro_cents_in_date_order(dataset: Dataset) -> None:
    dates = [order.order_date for order in dataset.orders]

    assert all(order.amount_cents > 0 for order in dataset.orders)
    assert {order.currency for order in dataset.orders} == {"EUR"}
    assert dates == sorted(dates)


def test_spend_covers_every_month_and_channel_once(dataset: Dataset) -> None:
    expected_months = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 12)]
    keys = [(row.month, row.channel) for row in dataset.channel_spend]

    assert sorted(keys) == sorted((m, c) for m in expected_months for c in ACQUISITION_CHANNELS)
    assert all(row.spend_cents > 0 for row in dataset.channel_spend)


def test_current_month_spend_is_prorated(dataset: Dataset) -> None:
    spend = {(row.month, row.channel): row.spend_cents for row in dataset.channel_spend}

    # 16 of November's 30 days have passed; noise is only +-10 %, so half a month is lower.
    assert all(spend[("2026-11", c)] < spend[("2026-10", c)] for c in ACQUISITION_CHANNELS)


def test_holiday_months_sell_more_than_summer(dataset: Dataset) -> None:
    orders_per_month: dict[str, int] = {}
    for order in dataset.orders:
        key = month_key(order.order_date)
        orders_per_month[key] = orders_per_month.get(key, 0) + 1

    assert orders_per_month["2025-12"] > orders_per_month["2026-08"]
    assert orders_per_month["2025-12"] > orders_per_month["2026-01"]


def test_some_customers_have_churned_and_some_are_new(dataset: Dataset) -> None:
    last_order: dict[str, date] = {}
    for order in dataset.orders:
        last_order[order.customer_id] = order.order_date

    silent_for_90_days = [cid for cid, day in last_order.items() if (AS_OF - day).days > 90]
    signed_up_in_period = [c for c in dataset.customers if c.signup_date >= PERIOD_START]

    assert 0.1 < len(silent_for_90_days) / len(last_order) < 0.5
    assert 0.5 < len(signed_up_in_period) / len(dataset.customers) < 0.9


def test_tickets_are_well_formed(dataset: Dataset) -> None:
    categories = {ticket.category for ticket in dataset.tickets}
    created = [ticket.created_at for ticket in dataset.tickets]

    assert categories == {"billing", "shipping", "product", "account"}
    assert all(ticket.csat is None or ticket.resolved for ticket in dataset.tickets)
    assert any(ticket.csat is not None for ticket in dataset.tickets)
    assert all(ticket.first_response_minutes >= 1 for ticket in dataset.tickets)
    assert created == sorted(created)


def test_the_billing_incident_shows_in_the_last_week(dataset: Dataset) -> None:
    incident_day = date(2026, 11, 13)
    billing_from_incident = [
        t
        for t in dataset.tickets
        if t.category == "billing" and incident_day <= t.created_at.date() <= AS_OF
    ]

    assert len(billing_from_incident) >= 10


def test_as_of_moves_the_whole_period() -> None:
    dataset = generate_sample_dataset(as_of=date(2024, 3, 31), customers=50)

    assert dataset.as_of == date(2024, 3, 31)
    assert min(order.order_date for order in dataset.orders) >= date(2023, 3, 1)
    assert max(order.order_date for order in dataset.orders) <= date(2024, 3, 31)
    assert {row.month for row in dataset.channel_spend} >= {"2023-03", "2024-03"}


def test_zero_customers_gives_spend_but_no_orders_or_tickets() -> None:
    dataset = generate_sample_dataset(customers=0)

    assert dataset.customers == ()
    assert dataset.orders == ()
    assert dataset.tickets == ()
    assert len(dataset.channel_spend) == 13 * len(ACQUISITION_CHANNELS)


def test_negative_customer_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="customers"):
        generate_sample_dataset(customers=-1)


def test_rows_are_frozen(dataset: Dataset) -> None:
    with pytest.raises(ValueError, match="frozen"):
        dataset.orders[0].amount_cents = 1  # type: ignore[misc]
