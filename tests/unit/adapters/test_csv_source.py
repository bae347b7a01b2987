"""Importing a business's own CSV exports through the DataSource port."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shared.adapters.csv_source import (
    CsvDataSource,
    CsvImportError,
    CustomerDefaults,
    parse_cents,
    parse_month,
)
from shared.core.dataset import Campaign, ChannelSpend, Customer, Order, Subscription
from shared.core.errors import InvalidRequestError, PermanentError
from shared.core.ports import DataSource

CUSTOMERS = """\
customer_id,name,email,country,signup_date,acquisition_channel,plan
c-1,Anna Weber,anna@example.com,de,2026-01-10,Referral,plus
c-2,Jules Martin,jules@example.org,,2026-02-01,,
"""
ORDERS = """\
order_id,customer_id,order_date,amount,currency
o-1,c-1,2026-03-01,45.90,EUR
o-2,c-2,2026-03-02T18:30:00+01:00,120,eur
o-3,c-1,2026-04-15,0.5,
"""
SUBSCRIPTIONS = """\
subscription_id,customer_id,plan,status,start_date,end_date,monthly_amount
s-1,c-1,plus_monthly,active,2026-01-10,,29.00
s-2,c-2,basic_monthly,Canceled,2026-02-01,2026-05-31,9.99
"""
CHANNEL_SPEND = """\
month,channel,spend
2026-03,search,1000.00
2026-03-05,search,250.50
2026-03,email,99
"""
CAMPAIGNS = """\
date,channel,campaign,impressions,clicks,conversions,spend,revenue
2026-03-01,search,brand-terms,12000,480,31,210.40,1805.00
2026-03-02,social,spring-reels,50000,700,12,150,420.10
2026-04-01,search,brand-terms,10000,400,20,100,900
"""


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_text(text, encoding=encoding)
    return path


def test_good_files_become_a_dataset(tmp_path: Path) -> None:
    source: DataSource = CsvDataSource(
        {
            "customers": write(tmp_path, "customers.csv", CUSTOMERS),
            "orders": write(tmp_path, "orders.csv", ORDERS),
            "subscriptions": write(tmp_path, "subscriptions.csv", SUBSCRIPTIONS),
            "channel_spend": write(tmp_path, "channel_spend.csv", CHANNEL_SPEND),
            "campaigns": write(tmp_path, "campaigns.csv", CAMPAIGNS),
        }
    )

    dataset = source.load()

    assert dataset.as_of == date(2026, 5, 31)  # the latest date in the data
    assert dataset.seed is None
    assert dataset.customers == (
        Customer(
            customer_id="c-1",
            name="Anna Weber",
            email="anna@example.com",
            country="DE",
            signup_date=date(2026, 1, 10),
            acquisition_channel="referral",
            plan="plus",
        ),
        Customer(
            customer_id="c-2",
            name="Jules Martin",
            email="jules@example.org",
            country="ZZ",
            signup_date=date(2026, 2, 1),
            acquisition_channel="search",
            plan="basic",
        ),
    )
    assert dataset.orders == (
        Order(order_id="o-1", customer_id="c-1", order_date=date(2026, 3, 1), amount_cents=4590),
        Order(order_id="o-2", customer_id="c-2", order_date=date(2026, 3, 2), amount_cents=12000),
        Order(order_id="o-3", customer_id="c-1", order_date=date(2026, 4, 15), amount_cents=50),
    )
    assert dataset.subscriptions == (
        Subscription(
            subscription_id="s-1",
            customer_id="c-1",
            plan="plus_monthly",
            status="active",
            start_date=date(2026, 1, 10),
            monthly_amount_cents=2900,
        ),
        Subscription(
            subscription_id="s-2",
            customer_id="c-2",
            plan="basic_monthly",
            status="canceled",
            start_date=date(2026, 2, 1),
            end_date=date(2026, 5, 31),
            monthly_amount_cents=999,
        ),
    )
    # Rows of the same month and channel add up; a date stands for its month.
    assert dataset.channel_spend == (
        ChannelSpend(month="2026-03", channel="search", spend_cents=125050),
        ChannelSpend(month="2026-03", channel="email", spend_cents=9900),
    )
    assert dataset.campaigns[1] == Campaign(
        day=date(2026, 3, 2),
        channel="social",
        campaign="spring-reels",
        impressions=50000,
        clicks=700,
        conversions=12,
        spend_cents=15000,
        revenue_cents=42010,
    )
    assert len(dataset.campaigns) == 3


def test_columns_map_the_files_own_headers(tmp_path: Path) -> None:
    orders = write(
        tmp_path,
        "export.csv",
        "Transaction ID;Paid on;Customer;Total (EUR);Note\n"
        "T-9;2026-11-02;c-7;1234.56;first order\n",
    )
    source = CsvDataSource(
        {"orders": orders},
        columns={
            "orders": {
                "order_id": "Transaction ID",
                "order_date": "paid ON",  # headers match case-insensitively
                "customer_id": "Customer",
                "amount": "Total (EUR)",
            }
        },
        delimiter=";",
    )

    dataset = source.load()

    assert dataset.orders == (
        Order(order_id="T-9", customer_id="c-7", order_date=date(2026, 11, 2), amount_cents=123456),
    )


def test_customers_missing_from_customers_csv_get_minimal_rows(tmp_path: Path) -> None:
    orders = write(
        tmp_path,
        "orders.csv",
        "order_id,customer_id,order_date,amount\n"
        "o-1,c-9,2026-05-03,10\n"
        "o-2,c-9,2026-04-20,10\n"
        "o-3,c-1,2026-05-04,10\n",
    )
    source = CsvDataSource(
        {"customers": write(tmp_path, "customers.csv", CUSTOMERS), "orders": orders},
        defaults=CustomerDefaults(country="NL", acquisition_channel="email", plan="premium"),
    )

    dataset = source.load()

    assert [customer.customer_id for customer in dataset.customers] == ["c-1", "c-2", "c-9"]
    assert dataset.customers[2] == Customer(
        customer_id="c-9",
        name="",
        email="",
        country="NL",
        signup_date=date(2026, 4, 20),  # the first order, not the first row
        acquisition_channel="email",
        plan="premium",
    )


def test_missing_customers_can_be_an_error_instead(tmp_path: Path) -> None:
    orders = write(
        tmp_path,
        "orders.csv",
        "order_id,customer_id,order_date,amount\no-1,c-1,2026-05-03,10\no-2,c-9,2026-05-03,10\n",
    )
    source = CsvDataSource(
        {"customers": write(tmp_path, "customers.csv", CUSTOMERS), "orders": orders},
        create_missing_customers=False,
    )

    with pytest.raises(CsvImportError) as caught:
        source.load()

    assert (caught.value.file, caught.value.row, caught.value.column) == (
        "orders.csv",
        3,
        "customer_id",
    )
    assert "'c-9' is not in customers" in str(caught.value)


def test_channel_spend_comes_from_campaigns_without_a_spend_file(tmp_path: Path) -> None:
    source = CsvDataSource({"campaigns": write(tmp_path, "campaigns.csv", CAMPAIGNS)})

    dataset = source.load()

    assert dataset.channel_spend == (
        ChannelSpend(month="2026-03", channel="search", spend_cents=21040),
        ChannelSpend(month="2026-03", channel="social", spend_cents=15000),
        ChannelSpend(month="2026-04", channel="search", spend_cents=10000),
    )
    assert dataset.as_of == date(2026, 4, 1)


def test_a_given_as_of_wins_and_bom_and_blank_lines_are_fine(tmp_path: Path) -> None:
    orders = write(
        tmp_path,
        "orders.csv",
        "Order_ID,Customer_ID,Order_Date,Amount\n\no-1,c-1,2026-05-03,10\n",
        encoding="utf-8-sig",
    )

    dataset = CsvDataSource({"orders": orders}, as_of=date(2026, 6, 30)).load()

    assert dataset.as_of == date(2026, 6, 30)
    assert dataset.orders[0].order_id == "o-1"


def test_rows_are_numbered_by_line_so_blank_lines_count(tmp_path: Path) -> None:
    orders = write(
        tmp_path,
        "orders.csv",
        "order_id,customer_id,order_date,amount\n\no-1,c-1,2026-05-03,10\n\n\no-2,c-1,2026-05-04,x\n",
    )

    with pytest.raises(CsvImportError) as caught:
        CsvDataSource({"orders": orders}).load()

    assert (caught.value.row, caught.value.column) == (6, "amount")


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ('o-2,c-1,2026-03-02,"12,50"', "amount", "'12,50' is not a decimal amount"),
        ("o-2,c-1,2026-03-02,€12.50", "amount", "'€12.50' is not a decimal amount"),
        ("o-2,c-1,2026-03-02,12.505", "amount", "'12.505' has more than two decimals"),
        ("o-2,c-1,2026-03-02,-3", "amount", "'-3' is negative"),
        ("o-2,c-1,2026-03-02,NaN", "amount", "'NaN' is not a decimal amount"),
        ("o-2,c-1,02/03/2026,12", "order_date", "'02/03/2026' is not an ISO date"),
        ("o-2,,2026-03-02,12", "customer_id", "is empty"),
        ("o-2,c-1,2026-03-02,12,USD", "currency", "'USD' is not EUR"),
        ("o-1,c-1,2026-03-02,12", "order_id", "'o-1' appears in an earlier row too"),
    ],
)
def test_a_bad_order_names_file_row_and_column(
    tmp_path: Path, row: str, column: str, reason: str
) -> None:
    orders = f"order_id,customer_id,order_date,amount,currency\no-1,c-1,2026-03-01,1,EUR\n{row}\n"

    with pytest.raises(CsvImportError) as caught:
        CsvDataSource({"orders": write(tmp_path, "orders.csv", orders)}).load()

    error = caught.value
    assert (error.file, error.row, error.column) == ("orders.csv", 3, column)
    assert reason in error.reason
    assert str(error).startswith(f"orders.csv, row 3, column {column!r}: ")


def test_the_error_names_the_files_own_header(tmp_path: Path) -> None:
    orders = write(tmp_path, "orders.csv", "id,who,when,Total\no-1,c-1,2026-03-01,ten\n")
    source = CsvDataSource(
        {"orders": orders},
        columns={
            "orders": {
                "order_id": "id",
                "customer_id": "who",
                "order_date": "when",
                "amount": "Total",
            }
        },
    )

    with pytest.raises(CsvImportError, match=r"orders\.csv, row 2, column 'Total': 'ten'"):
        source.load()


@pytest.mark.parametrize(
    ("table", "text", "row", "column", "reason"),
    [
        (
            "orders",
            "order_id,customer_id,amount\no-1,c-1,1\n",
            1,
            "order_date",
            "required column is missing",
        ),
        ("orders", "", 1, None, "is empty; expected a header row"),
        (
            "customers",
            "customer_id,signup_date,country\nc-1,2026-01-01,Germany\n",
            2,
            "country",
            "not a two-letter ISO 3166 country code",
        ),
        (
            "customers",
            "customer_id,signup_date,acquisition_channel\nc-1,2026-01-01,tv\n",
            2,
            "acquisition_channel",
            "'tv' is not one of search, social, email, referral",
        ),
        (
            "subscriptions",
            "subscription_id,customer_id,plan,status,start_date,end_date,monthly_amount\n"
            "s-1,c-1,p,active,2026-03-01,2026-02-01,5\n",
            2,
            "end_date",
            "is before the start date",
        ),
        (
            "subscriptions",
            "subscription_id,customer_id,plan,status,start_date,monthly_amount\n"
            "s-1,c-1,p,on_hold,2026-03-01,5\n",
            2,
            "status",
            "'on_hold' is not one of trialing, active",
        ),
        (
            "channel_spend",
            "month,channel,spend\n2026-13,search,5\n",
            2,
            "month",
            "'2026-13' is not a month",
        ),
        (
            "campaigns",
            "date,channel,campaign,impressions,clicks,conversions,spend,revenue\n"
            "2026-03-01,search,x,100,1.5,0,1,1\n",
            2,
            "clicks",
            "'1.5' is not a whole number",
        ),
    ],
)
def test_bad_files_name_file_row_and_column(
    tmp_path: Path, table: str, text: str, row: int, column: str | None, reason: str
) -> None:
    path = write(tmp_path, f"{table}.csv", text)

    with pytest.raises(CsvImportError) as caught:
        CsvDataSource({table: path}).load()

    error = caught.value
    assert (error.file, error.row, error.column) == (f"{table}.csv", row, column)
    assert reason in error.reason


def test_a_missing_file_is_an_import_error(tmp_path: Path) -> None:
    source = CsvDataSource({"orders": tmp_path / "nope.csv"})

    with pytest.raises(CsvImportError, match=r"nope\.csv: cannot be read"):
        source.load()


def test_a_file_that_is_not_utf8_is_an_import_error(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id,signup_date,name\nc-1,2026-01-01,Müller\n".encode("cp1252"))

    with pytest.raises(CsvImportError, match=r"customers\.csv: is not utf-8-sig text"):
        CsvDataSource({"customers": path}).load()


def test_unknown_tables_and_columns_are_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(CsvImportError, match="unknown table 'invoices'"):
        CsvDataSource({"invoices": tmp_path / "invoices.csv"})
    with pytest.raises(InvalidRequestError, match=r"unknown columns \['total'\]"):
        CsvDataSource({}, columns={"orders": {"total": "Total"}})


def test_import_errors_are_permanent_request_errors() -> None:
    error = CsvImportError("is empty", file="orders.csv", row=4, column="amount")

    assert isinstance(error, InvalidRequestError)
    assert isinstance(error, PermanentError)
    assert error.http_status == 400
    assert str(error) == "orders.csv, row 4, column 'amount': is empty"


@pytest.mark.parametrize(
    ("text", "cents"),
    [("0", 0), ("12", 1200), ("12.5", 1250), ("12.50", 1250), ("1234.56", 123456), ("0.01", 1)],
)
def test_parse_cents_is_exact(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


def test_parse_cents_does_not_round_through_floats() -> None:
    # 0.29 * 100 == 28.999999999999996 in binary floating point.
    assert parse_cents("0.29") == 29
    assert parse_cents("19.99") == 1999


@pytest.mark.parametrize(
    "text", ["1e3", "1,5", "1_000", "+5", "12.345", "-0.01", "inf", "", " ", "EUR 5"]
)
def test_parse_cents_refuses_what_is_not_a_plain_amount(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cents(text)


@pytest.mark.parametrize(
    ("text", "month"), [("2026-03", "2026-03"), ("2026-03-31", "2026-03"), ("2026-12", "2026-12")]
)
def test_parse_month(text: str, month: str) -> None:
    assert parse_month(text) == month
