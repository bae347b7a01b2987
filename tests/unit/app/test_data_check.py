"""`controlroom data check` on the sample shop and on data as a company exports it: each kind
summarised, each report section's outlook said, an unreadable source named with exit 1."""

from __future__ import annotations

import argparse
from datetime import date

import pytest

from shared.adapters.sample_source import SampleDataSource
from shared.app.data_check import check_dataset
from shared.cli.data import run_data
from shared.core.dataset import Dataset

SAMPLE = SampleDataSource(date(2026, 11, 16))


def outlooks(dataset: Dataset) -> dict[str, tuple[str, str]]:
    return {s.section: (s.outlook, s.why) for s in check_dataset(dataset, "test").sections}


def test_the_sample_holds_every_kind_but_subscriptions_and_budgets() -> None:
    check = check_dataset(SAMPLE.load(), "sample")
    kinds = {k.kind: k for k in check.kinds}

    assert {k for k, v in kinds.items() if v.state == "missing"} == {"subscriptions", "budgets"}
    orders = kinds["orders"]
    assert orders.rows == len(SAMPLE.load().orders) and orders.currency == "EUR"
    assert orders.last == date(2026, 11, 16) and orders.first is not None
    assert outlooks(SAMPLE.load())["finance"][0] == "partial"  # MRR from repeat orders
    assert outlooks(SAMPLE.load())["support"] == ("complete", "support tickets")


def test_orders_alone_leave_marketing_support_and_winback_empty_and_say_why() -> None:
    full = SAMPLE.load()
    customers = tuple(c.model_copy(update={"email": ""}) for c in full.customers)
    orders_only = Dataset(as_of=full.as_of, customers=customers, orders=full.orders)

    found = outlooks(orders_only)

    assert found["insights"][0] == "complete"
    assert found["marketing"] == (
        "empty",
        "no channel spend and no campaign results: no return on ad spend per channel",
    )
    assert found["support"][0] == "empty" and "no support tickets" in found["support"][1]
    assert found["winback"] == ("empty", "no customer has an email address")
    assert found["budget vs actual"][0] == "empty"


def test_one_complete_month_is_too_few_for_the_forecast() -> None:
    full = SAMPLE.load()
    october = tuple(o for o in full.orders if o.order_date >= date(2026, 10, 1))

    found = outlooks(Dataset(as_of=full.as_of, customers=full.customers, orders=october))

    assert found["finance"][0] == "partial" and "1 complete month(s)" in found["finance"][1]


def test_an_unreadable_source_is_named_with_its_reason_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken() -> SampleDataSource:
        raise PermissionError("403 from the API")

    code = run_data(argparse.Namespace(json=False), lambda: ("stripe", broken))

    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "controlroom data check: stripe cannot be read: 403 from the API"
    )


def test_the_check_prints_a_table_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_data(argparse.Namespace(json=False), lambda: ("sample", lambda: SAMPLE)) == 0
    table = capsys.readouterr().out
    assert table.startswith("source: sample, data as of 2026-11-16")
    assert "budgets" in table and "missing" in table

    assert run_data(argparse.Namespace(json=True), lambda: ("sample", lambda: SAMPLE)) == 0
    assert '"kind": "orders"' in capsys.readouterr().out
