"""The DataSource port on a business's own data, exported as CSV files (or any grid of cells).

One file per table, each optional, keyed by table name. Default column names:

    customers      customer_id, name, email, country, signup_date, acquisition_channel, plan
    orders         order_id, customer_id, order_date, amount, currency
    subscriptions  subscription_id, customer_id, plan, status, start_date, end_date,
                   monthly_amount, currency
    channel_spend  month, channel, spend
    campaigns      date, channel, campaign, impressions, clicks, conversions, spend, revenue

Optional columns: customers' name, email, country, acquisition_channel and plan; orders' and
subscriptions' currency; subscriptions' end_date. `columns` maps these names to a file's own
headers, e.g. `{"orders": {"amount": "Total", "order_date": "Paid at"}}`. Headers match
case-insensitively, extra columns are ignored, blank lines are skipped.

Values:
- Dates are ISO 8601 (`2026-11-16`); of a date-time only the date is kept.
- A month is `YYYY-MM`; an ISO date stands for its month. Channel spend rows of the same month
  and channel are added up, so a daily spend export works as it is.
- Amounts are decimal strings in EUR with at most two decimals (`12`, `12.5`, `1234.56`),
  converted to integer cents without floating point. No currency symbols or thousands
  separators: a cell that is not a plain decimal is an error, never a guess.
- The data set holds EUR only, so a currency column, when present, must say EUR.
- Channels are search/social/email/referral, plans basic/plus/premium, statuses Stripe's
  subscription statuses; all case-insensitive. Blank optional cells take `CustomerDefaults`.

Decisions the files cannot make:
- A customer that orders or subscriptions refer to but customers.csv lacks gets a minimal row
  (no name or e-mail, the default country, channel and plan, signed up on the first order or
  subscription start), so their revenue still counts. `create_missing_customers=False` makes
  such a reference an error instead.
- Without a channel_spend file, channel spend is the campaigns' spend by month and channel.
- `as_of` defaults to the latest date in the data; nothing reads the clock.
- A repeated customer, order or subscription id is an error.

Every problem raises `CsvImportError` naming the file, the row (the line number in the file;
the header is row 1) and the column at fault.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.core.dataset import (
    AcquisitionChannel,
    Campaign,
    ChannelSpend,
    Customer,
    Dataset,
    Order,
    Plan,
    Subscription,
    SubscriptionStatus,
    month_key,
)
from shared.core.errors import InvalidRequestError

T = TypeVar("T")
D = TypeVar("D")
RowModel = TypeVar("RowModel", bound=BaseModel)

# (required columns, optional columns) of each table, by default header.
TABLE_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customers": (
        ("customer_id", "signup_date"),
        ("name", "email", "country", "acquisition_channel", "plan"),
    ),
    "orders": (("order_id", "customer_id", "order_date", "amount"), ("currency",)),
    "subscriptions": (
        ("subscription_id", "customer_id", "plan", "status", "start_date", "monthly_amount"),
        ("end_date", "currency"),
    ),
    "channel_spend": (("month", "channel", "spend"), ()),
    "campaigns": (
        ("date", "channel", "campaign", "impressions", "clicks", "conversions", "spend", "revenue"),
        (),
    ),
}

# Digits with an optional decimal point; no sign but minus, exponent, separator or symbol.
_PLAIN_DECIMAL = re.compile(r"-?(\d+\.?\d*|\.\d+)")

# Model fields whose column has another name, to name the column when a model rejects a row.
_COLUMN_OF_FIELD = {
    "amount_cents": "amount",
    "spend_cents": "spend",
    "revenue_cents": "revenue",
    "monthly_amount_cents": "monthly_amount",
    "day": "date",
}


class CsvImportError(InvalidRequestError):
    """A file that cannot be imported, with the file, row and column at fault."""

    def __init__(
        self, reason: str, *, file: str, row: int | None = None, column: str | None = None
    ) -> None:
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.file = file
        self.row = row
        self.column = column


class CustomerDefaults(BaseModel):
    """What to assume about a customer when the source does not say.

    "ZZ" is the ISO 3166 user-assigned code commonly used for an unknown country. Unknown
    acquisition sources count as search, the channel that organic and direct traffic most
    resemble; set another default if the business knows better.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    country: str = Field(default="ZZ", pattern=r"^[A-Z]{2}$")
    acquisition_channel: AcquisitionChannel = "search"
    plan: Plan = "basic"


@dataclass(frozen=True)
class TableRows:
    """A table as read: where it came from, its header, and its numbered rows of cells."""

    source: str  # how errors name it, e.g. "orders.csv"
    header: Sequence[str]
    rows: Sequence[tuple[int, Sequence[str]]]  # (row number as the source shows it, cells)


class CsvDataSource:
    """Reads the business's CSV exports into a data set on every `load()`."""

    def __init__(
        self,
        files: Mapping[str, Path | str],
        *,
        as_of: date | None = None,
        columns: Mapping[str, Mapping[str, str]] | None = None,
        defaults: CustomerDefaults | None = None,
        create_missing_customers: bool = True,
        encoding: str = "utf-8-sig",
        delimiter: str = ",",
    ) -> None:
        self.files = {table: Path(path) for table, path in files.items()}
        for table, path in self.files.items():
            if table not in TABLE_COLUMNS:
                raise CsvImportError(
                    f"unknown table {table!r}; expected one of {', '.join(TABLE_COLUMNS)}",
                    file=path.name,
                )
        self.as_of = as_of
        self.columns = _check_columns(columns or {})
        self.defaults = defaults or CustomerDefaults()
        self.create_missing_customers = create_missing_customers
        self.encoding = encoding
        self.delimiter = delimiter

    def load(self) -> Dataset:
        """The data set in the files as they are now."""
        tables = {
            table: read_csv_table(path, encoding=self.encoding, delimiter=self.delimiter)
            for table, path in self.files.items()
        }
        return dataset_from_tables(
            tables,
            as_of=self.as_of,
            columns=self.columns,
            defaults=self.defaults,
            create_missing_customers=self.create_missing_customers,
        )


def read_csv_table(path: Path, *, encoding: str = "utf-8-sig", delimiter: str = ",") -> TableRows:
    """The header and non-blank rows of one CSV file, numbered by line."""
    rows: list[tuple[int, Sequence[str]]] = []
    header: list[str] | None = None
    try:
        with path.open(newline="", encoding=encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            try:
                for cells in reader:
                    if not any(cell.strip() for cell in cells):
                        continue
                    if header is None:
                        header = cells
                    else:
                        rows.append((reader.line_num, cells))
            except csv.Error as error:
                raise CsvImportError(
                    f"is not valid CSV: {error}", file=path.name, row=reader.line_num
                ) from error
    except UnicodeDecodeError as error:
        raise CsvImportError(f"is not {encoding} text: {error}", file=path.name) from error
    except OSError as error:
        raise CsvImportError(f"cannot be read: {error.strerror}", file=path.name) from error
    if header is None:
        raise CsvImportError("is empty; expected a header row", file=path.name, row=1)
    return TableRows(source=path.name, header=header, rows=rows)


def dataset_from_tables(
    tables: Mapping[str, TableRows],
    *,
    as_of: date | None = None,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    defaults: CustomerDefaults | None = None,
    create_missing_customers: bool = True,
) -> Dataset:
    """Validate and convert tables of cells into a data set (see the module docstring)."""
    columns = _check_columns(columns or {})
    defaults = defaults or CustomerDefaults()
    for table, rows in tables.items():
        if table not in TABLE_COLUMNS:
            raise CsvImportError(
                f"unknown table {table!r}; expected one of {', '.join(TABLE_COLUMNS)}",
                file=rows.source,
            )

    def rows_of(table: str) -> list[_Row]:
        if table not in tables:
            return []
        return _rows(tables[table], table, columns.get(table, {}))

    customers = _parse_unique(
        rows_of("customers"), lambda row: _customer(row, defaults), "customer_id"
    )
    order_rows = rows_of("orders")
    orders = _parse_unique(order_rows, _order, "order_id")
    subscription_rows = rows_of("subscriptions")
    subscriptions = _parse_unique(subscription_rows, _subscription, "subscription_id")
    campaigns = [_campaign(row) for row in rows_of("campaigns")]
    if "channel_spend" in tables:
        spend_rows = [_channel_spend(row) for row in rows_of("channel_spend")]
    else:
        spend_rows = [
            ChannelSpend(month=month_key(c.day), channel=c.channel, spend_cents=c.spend_cents)
            for c in campaigns
        ]

    references = [
        (row, order.customer_id, order.order_date)
        for row, order in zip(order_rows, orders, strict=True)
    ] + [
        (row, sub.customer_id, sub.start_date)
        for row, sub in zip(subscription_rows, subscriptions, strict=True)
    ]
    known = {customer.customer_id for customer in customers}
    if not create_missing_customers:
        for row, customer_id, _ in references:
            if customer_id not in known:
                raise row.error("customer_id", f"customer {customer_id!r} is not in customers")
    missing = missing_customers(
        known, ((customer_id, day) for _, customer_id, day in references), defaults
    )
    customers += missing

    dataset_as_of = as_of or _latest_date(customers, orders, subscriptions, campaigns, spend_rows)
    if dataset_as_of is None:
        raise CsvImportError(
            "no dated rows to take as_of from; pass as_of",
            file=", ".join(rows.source for rows in tables.values()) or "(no files)",
        )
    return Dataset(
        as_of=dataset_as_of,
        customers=tuple(customers),
        orders=tuple(orders),
        channel_spend=_sum_spend(spend_rows),
        subscriptions=tuple(subscriptions),
        campaigns=tuple(campaigns),
    )


def missing_customers(
    known: set[str], references: Iterable[tuple[str, date]], defaults: CustomerDefaults
) -> list[Customer]:
    """Minimal rows for referenced customer ids not in `known`, signed up on first reference."""
    first_seen: dict[str, date] = {}
    for customer_id, day in references:
        if customer_id not in known:
            first_seen[customer_id] = min(day, first_seen.get(customer_id, day))
    return [
        Customer(
            customer_id=customer_id,
            name="",
            email="",
            country=defaults.country,
            signup_date=day,
            acquisition_channel=defaults.acquisition_channel,
            plan=defaults.plan,
        )
        for customer_id, day in first_seen.items()
    ]


# --- cell parsers: each raises ValueError with a message fit for the user ---------------------


def parse_cents(text: str) -> int:
    """A non-negative plain decimal amount with at most two decimals, in integer cents."""
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal amount like 1234.56")
    amount = Decimal(text)  # exact: no binary floating point on the way to cents
    if amount < 0:
        raise ValueError(f"{text!r} is negative")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{text!r} has more than two decimals")
    return int(cents)


def parse_date(text: str) -> date:
    """An ISO 8601 date, or the date of an ISO 8601 date-time."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date like 2026-11-16") from None


def parse_month(text: str) -> str:
    """A month as "YYYY-MM", from "YYYY-MM" or an ISO date."""
    try:
        return month_key(date.fromisoformat(f"{text}-01"))
    except ValueError:
        pass
    try:
        return month_key(parse_date(text))
    except ValueError:
        raise ValueError(f"{text!r} is not a month like 2026-11 or an ISO date") from None


def parse_count(text: str) -> int:
    """A non-negative whole number."""
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a whole number >= 0")
    return int(text)


def _parse_country(text: str) -> str:
    code = text.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise ValueError(f"{text!r} is not a two-letter ISO 3166 country code")
    return code


def _parse_eur(text: str) -> str:
    if text.upper() != "EUR":
        raise ValueError(f"{text!r} is not EUR; the data set holds EUR amounts only")
    return "EUR"


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], Any]:
    def parse(text: str) -> str:
        value = text.lower()
        if value not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return value

    return parse


_channel = _one_of(get_args(AcquisitionChannel))
_plan = _one_of(get_args(Plan))
_status = _one_of(get_args(SubscriptionStatus))


def _text(text: str) -> str:
    return text


# --- rows -----------------------------------------------------------------------------------


class _Row:
    """One row of a table, with cell access that names the file, row and column on error."""

    def __init__(
        self, table: TableRows, number: int, cells: Sequence[str], index: Mapping[str, int]
    ) -> None:
        self.table = table
        self.number = number
        self.cells = cells
        self.index = index  # column name -> cell position, for the columns present

    def header(self, column: str) -> str:
        position = self.index.get(column)
        return column if position is None else self.table.header[position].strip()

    def error(self, column: str, reason: str) -> CsvImportError:
        return CsvImportError(
            reason, file=self.table.source, row=self.number, column=self.header(column)
        )

    def _cell(self, column: str) -> str:
        position = self.index.get(column)
        if position is None or position >= len(self.cells):
            return ""
        return self.cells[position].strip()

    def get(self, column: str, parse: Callable[[str], T]) -> T:
        """The parsed cell of a required column."""
        text = self._cell(column)
        if not text:
            raise self.error(column, "is empty")
        return self._parse(column, text, parse)

    def get_or(self, column: str, parse: Callable[[str], T], default: D) -> T | D:
        """The parsed cell, or the default when the cell is blank or the column absent."""
        text = self._cell(column)
        return default if not text else self._parse(column, text, parse)

    def _parse(self, column: str, text: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(text)
        except ValueError as error:
            raise self.error(column, str(error)) from None

    def build(self, model: type[RowModel], **values: Any) -> RowModel:
        """The row model, with a model's own validation failure pinned to its column."""
        try:
            return model(**values)
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else ""
            raise self.error(_COLUMN_OF_FIELD.get(field, field), first["msg"]) from None


def _check_columns(columns: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    for table, mapping in columns.items():
        if table not in TABLE_COLUMNS:
            raise InvalidRequestError(f"columns: unknown table {table!r}")
        required, optional = TABLE_COLUMNS[table]
        unknown = set(mapping) - set(required) - set(optional)
        if unknown:
            raise InvalidRequestError(f"columns[{table!r}]: unknown columns {sorted(unknown)}")
    return {table: dict(mapping) for table, mapping in columns.items()}


def _rows(table: TableRows, name: str, mapping: Mapping[str, str]) -> list[_Row]:
    required, optional = TABLE_COLUMNS[name]
    if not table.header:
        raise CsvImportError("is empty; expected a header row", file=table.source, row=1)
    position_of_header: dict[str, int] = {}
    for position, cell in enumerate(table.header):
        position_of_header.setdefault(cell.strip().casefold(), position)
    index: dict[str, int] = {}
    for column in required + optional:
        header = mapping.get(column, column)
        found = position_of_header.get(header.strip().casefold())
        if found is not None:
            index[column] = found
        elif column in required:
            raise CsvImportError(
                f"required column is missing (header: {', '.join(table.header)})",
                file=table.source,
                row=1,
                column=header,
            )
    return [_Row(table, number, cells, index) for number, cells in table.rows]


def _customer(row: _Row, defaults: CustomerDefaults) -> Customer:
    return row.build(
        Customer,
        customer_id=row.get("customer_id", _text),
        name=row.get_or("name", _text, ""),
        email=row.get_or("email", _text, ""),
        country=row.get_or("country", _parse_country, defaults.country),
        signup_date=row.get("signup_date", parse_date),
        acquisition_channel=row.get_or(
            "acquisition_channel", _channel, defaults.acquisition_channel
        ),
        plan=row.get_or("plan", _plan, defaults.plan),
    )


def _order(row: _Row) -> Order:
    row.get_or("currency", _parse_eur, "EUR")
    return row.build(
        Order,
        order_id=row.get("order_id", _text),
        customer_id=row.get("customer_id", _text),
        order_date=row.get("order_date", parse_date),
        amount_cents=row.get("amount", parse_cents),
    )


def _subscription(row: _Row) -> Subscription:
    row.get_or("currency", _parse_eur, "EUR")
    start = row.get("start_date", parse_date)
    end = row.get_or("end_date", parse_date, None)
    if end is not None and end < start:
        raise row.error("end_date", f"{end} is before the start date {start}")
    return row.build(
        Subscription,
        subscription_id=row.get("subscription_id", _text),
        customer_id=row.get("customer_id", _text),
        plan=row.get("plan", _text),
        status=row.get("status", _status),
        start_date=start,
        end_date=end,
        monthly_amount_cents=row.get("monthly_amount", parse_cents),
    )


def _channel_spend(row: _Row) -> ChannelSpend:
    return row.build(
        ChannelSpend,
        month=row.get("month", parse_month),
        channel=row.get("channel", _channel),
        spend_cents=row.get("spend", parse_cents),
    )


def _campaign(row: _Row) -> Campaign:
    return row.build(
        Campaign,
        day=row.get("date", parse_date),
        channel=row.get("channel", _channel),
        campaign=row.get("campaign", _text),
        impressions=row.get("impressions", parse_count),
        clicks=row.get("clicks", parse_count),
        conversions=row.get("conversions", parse_count),
        spend_cents=row.get("spend", parse_cents),
        revenue_cents=row.get("revenue", parse_cents),
    )


def _parse_unique(
    rows: list[_Row], parse: Callable[[_Row], RowModel], id_column: str
) -> list[RowModel]:
    """Parse every row, refusing a second row with an id seen before."""
    seen: set[str] = set()
    models = []
    for row in rows:
        model = parse(row)
        value = getattr(model, id_column)
        if value in seen:
            raise row.error(id_column, f"{value!r} appears in an earlier row too")
        seen.add(value)
        models.append(model)
    return models


def _sum_spend(rows: list[ChannelSpend]) -> tuple[ChannelSpend, ...]:
    """One row per month and channel, in order of first appearance."""
    totals: dict[tuple[str, AcquisitionChannel], int] = {}
    for row in rows:
        key = (row.month, row.channel)
        totals[key] = totals.get(key, 0) + row.spend_cents
    return tuple(
        ChannelSpend(month=month, channel=channel, spend_cents=cents)
        for (month, channel), cents in totals.items()
    )


def _latest_date(
    customers: list[Customer],
    orders: list[Order],
    subscriptions: list[Subscription],
    campaigns: list[Campaign],
    spend: list[ChannelSpend],
) -> date | None:
    days = [
        *(customer.signup_date for customer in customers),
        *(order.order_date for order in orders),
        *(sub.end_date or sub.start_date for sub in subscriptions),
        *(campaign.day for campaign in campaigns),
        *(date.fromisoformat(f"{row.month}-01") for row in spend),
    ]
    return max(days, default=None)
