"""Properties of the CSV import (shared/adapters/csv_source.py): whatever files a business
exports, loading them gives a consistent data set or a CsvImportError (400) naming the file,
never a KeyError, IndexError, ValueError or any other exception."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.adapters.csv_source import TABLE_COLUMNS, CsvDataSource, CsvImportError
from shared.core.dataset import Dataset
from shared.core.errors import InvalidRequestError
from tests.helpers.fuzzing import fuzz_settings

TABLES = sorted(TABLE_COLUMNS)

garbage = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "-", "N/A", "null", "\x00", '"', "\n", ";", ",", "²", "٣", "¼"]),
)


def cells(valid: st.SearchStrategy[str], hostile: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly cells a real export has, one in forty from `hostile` or anything at all (so
    that about half the files have a bad cell and half load)."""
    return st.integers(0, 39).flatmap(lambda n: (hostile | garbage) if n == 0 else valid)


dates = cells(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat),
    st.datetimes().map(lambda moment: moment.isoformat())
    | st.sampled_from(
        ["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "2026-W01-1", "20261116"]
    ),
)
amounts = cells(
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str)
    | st.sampled_from(["1e3", "-0", "-1", "0.005", "1,000.00", "€5", ".5", "5.", "١٢", "9" * 5000]),
)
counts = cells(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.sampled_from(["²", "٣", "1.0", "+1", "-1", "9" * 5000]),
)
# Customer ids that orders and subscriptions refer to; a row's own id is mostly new.
references = cells(st.sampled_from(["c-1", "c-2", "c-3"]), st.text(max_size=12))
ids = cells(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
    st.sampled_from(["c-1", "o-1", "s-1"]) | st.text(max_size=12),
)


def one_of(values: list[str], *hostile: str) -> st.SearchStrategy[str]:
    return cells(st.sampled_from(values), st.sampled_from(list(hostile)))


CELLS: dict[str, st.SearchStrategy[str]] = {
    "customer_id": references,
    "order_id": ids,
    "subscription_id": ids,
    "name": st.text(max_size=20),
    "email": st.sampled_from(["a@example.com", ""]) | st.text(max_size=20),
    "country": one_of(["DE", "fr", "ZZ", ""], "DEU", "Ü1", "ǅ", "1"),
    "signup_date": dates,
    "order_date": dates,
    "start_date": dates,
    "end_date": dates | st.just(""),
    "date": dates,
    "month": one_of(["2026-03", "2026-11"], "2026-13", "0000-01", "9999-12") | dates,
    "acquisition_channel": one_of(["search", "Social", "email", ""], "tv"),
    "channel": one_of(["search", "Social", "email", "referral"], "tv", ""),
    "plan": one_of(["basic", "plus", "PREMIUM", ""], "gold"),
    "status": one_of(["active", "Canceled", "past_due", "paused"], "nope", ""),
    "currency": one_of(["EUR", "eur", ""], "USD"),
    "amount": amounts,
    "monthly_amount": amounts,
    "spend": amounts,
    "revenue": amounts,
    "impressions": counts,
    "clicks": counts,
    "conversions": counts,
    "campaign": cells(st.sampled_from(["brand", "spring"]), st.text(max_size=12)),
}


@st.composite
def csv_tables(draw: st.DrawFn, table: str) -> str:
    """A CSV export of `table`: its columns in any order and case, some missing, some extra,
    rows of plausible and hostile cells, short and long rows, blank lines."""
    required, optional = TABLE_COLUMNS[table]
    columns = list(required + optional)
    columns = draw(st.permutations(columns))
    columns = [c for c in columns if c in required or draw(st.booleans())]
    if draw(st.integers(0, 39)) == 0 and columns:
        columns.remove(draw(st.sampled_from(columns)))  # a required column missing, at times
    header = [c.upper() if draw(st.booleans()) else c for c in columns]
    if draw(st.integers(0, 3)) == 0:
        header += draw(st.lists(st.text(max_size=8), max_size=2))
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(0, 5))):
        row = [draw(_cells_of(table, c.lower())) for c in header]
        if row and draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))]  # a short row
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.integers(0, 19)) == 0:
        text += draw(st.text(max_size=40))  # trailing junk
    return text


def _cells_of(table: str, column: str) -> st.SearchStrategy[str]:
    if table == "customers" and column == "customer_id":
        return ids  # the table's own key, not a reference
    return CELLS.get(column, garbage)


def load(files: dict[str, str | bytes]) -> Dataset | None:
    """The data set in the files, or None when the import was refused with a clear error."""
    with tempfile.TemporaryDirectory() as directory:
        paths = {}
        for table, content in files.items():
            path = Path(directory) / f"{table}.csv"
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", errors="surrogatepass")
            paths[table] = path
        try:
            return CsvDataSource(paths).load()
        except CsvImportError as exc:
            assert exc.file and exc.file in str(exc), "the error names the file at fault"
            return None
        except InvalidRequestError as exc:
            assert str(exc)
            return None


def assert_consistent(dataset: Dataset) -> None:
    customer_ids = [c.customer_id for c in dataset.customers]
    assert len(customer_ids) == len(set(customer_ids))
    known = set(customer_ids)
    assert all(order.customer_id in known for order in dataset.orders)
    assert all(sub.customer_id in known for sub in dataset.subscriptions)
    assert all(order.amount_cents >= 0 for order in dataset.orders)
    assert all(s.end_date is None or s.end_date >= s.start_date for s in dataset.subscriptions)
    latest = [c.signup_date for c in dataset.customers] + [o.order_date for o in dataset.orders]
    assert all(day <= dataset.as_of for day in latest)


@st.composite
def export_sets(draw: st.DrawFn) -> dict[str, str]:
    tables = draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=5, unique=True))
    return {table: draw(csv_tables(table)) for table in tables}


@fuzz_settings(250)
@given(files=export_sets())
def test_any_export_loads_into_a_consistent_data_set_or_a_clear_error(
    files: dict[str, str],
) -> None:
    dataset = load(dict(files))
    if dataset is not None:
        assert_consistent(dataset)


@fuzz_settings(100)
@given(table=st.sampled_from(TABLES), content=st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_or_bytes_load_or_fail_with_a_clear_error(
    table: str, content: str | bytes
) -> None:
    dataset = load({table: content})
    if dataset is not None:
        assert_consistent(dataset)


def test_a_field_over_the_csv_modules_limit_is_a_clear_error() -> None:
    assert load({"orders": "order_id,customer_id,order_date,amount\n" + "x" * 200_000}) is None


def test_the_property_exports_can_succeed() -> None:
    """The generated exports are close enough to real ones that some of them load."""
    files: dict[str, Any] = {
        "customers": "customer_id,signup_date\nc-1,2026-01-10\n",
        "orders": "ORDER_ID,customer_id,order_date,amount,extra\no-1,c-2,2026-03-01,45.9,x\n",
    }
    dataset = load(files)
    assert dataset is not None
    assert_consistent(dataset)
