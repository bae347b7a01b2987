"""The Google Sheets v4 adapter against recorded API responses."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest

from shared.adapters.csv_source import CsvImportError
from shared.adapters.vendors import (
    HttpPolicy,
    SheetsClient,
    SheetsDataSource,
    VendorPermanentError,
    VendorRetryableError,
    google_token_provider,
)
from shared.adapters.vendors.sheets import CellValue
from shared.core.dataset import Customer, Order
from tests.helpers.vendor_replay import Replay, payload

SHEET_ID = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"


def sheets(replay: Replay, policy: HttpPolicy | None = None) -> SheetsClient:
    return SheetsClient(
        lambda: "ya29.test-token", client=replay.client(), policy=policy, sleep=lambda _: None
    )


def test_read_range_gets_the_values_of_an_a1_range() -> None:
    replay = Replay(httpx.Response(200, json=payload("sheets_values_orders.json")))

    values = sheets(replay).read_range(SHEET_ID, "Orders!A1:E")

    (request,) = replay.requests
    assert (request.method, request.url.host) == ("GET", "sheets.googleapis.com")
    assert request.url.raw_path.startswith(
        f"/v4/spreadsheets/{SHEET_ID}/values/Orders!A1:E?".encode()
    )
    assert request.url.params["valueRenderOption"] == "UNFORMATTED_VALUE"
    assert request.headers["Authorization"] == "Bearer ya29.test-token"
    assert values.range == "Orders!A1:E5"
    assert values.values[1] == ["ord-1001", "c-17", "2026-11-02", 45.9, "EUR"]


def test_a_sheet_name_with_spaces_is_percent_encoded_in_the_path() -> None:
    replay = Replay(
        httpx.Response(200, json={"range": "'Q4 orders'!A1:B2", "majorDimension": "ROWS"})
    )

    values = sheets(replay).read_range(SHEET_ID, "'Q4 orders'!A1:B2")

    assert b"/values/%27Q4%20orders%27!A1:B2?" in replay.requests[0].url.raw_path
    assert values.values == []  # an empty range has no "values"


def test_the_token_provider_is_asked_before_every_request() -> None:
    tokens = iter(["ya29.first", "ya29.second"])
    replay = Replay(
        httpx.Response(200, json=payload("sheets_values_orders.json")),
        httpx.Response(200, json=payload("sheets_values_orders.json")),
    )
    client = SheetsClient(lambda: next(tokens), client=replay.client())

    client.read_range(SHEET_ID, "Orders!A1:E")
    client.read_range(SHEET_ID, "Orders!A1:E")

    assert [r.headers["Authorization"] for r in replay.requests] == [
        "Bearer ya29.first",
        "Bearer ya29.second",
    ]


def test_append_rows_posts_a_value_range_with_user_entered_input() -> None:
    replay = Replay(httpx.Response(200, json=payload("sheets_append.json")))
    rows: list[list[CellValue]] = [
        ["2026-11-16", "finance", 1234.5, True],
        ["2026-11-16", "support", "=B2", False],
    ]

    result = sheets(replay).append_rows(SHEET_ID, "Log!A1:D1", rows)

    (request,) = replay.requests
    assert request.method == "POST"
    assert request.url.raw_path.startswith(
        f"/v4/spreadsheets/{SHEET_ID}/values/Log!A1:D1:append?".encode()
    )
    assert dict(request.url.params) == {
        "valueInputOption": "USER_ENTERED",
        "insertDataOption": "INSERT_ROWS",
    }
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "range": "Log!A1:D1",
        "majorDimension": "ROWS",
        "values": [
            ["2026-11-16", "finance", 1234.5, True],
            ["2026-11-16", "support", "=B2", False],
        ],
    }
    assert (result.spreadsheet_id, result.table_range) == (SHEET_ID, "Log!A1:C12")
    assert (result.updates.updated_range, result.updates.updated_rows) == ("Log!A13:C14", 2)


def test_a_data_source_reads_ranges_laid_out_like_the_csv_files() -> None:
    replay = Replay(httpx.Response(200, json=payload("sheets_values_orders.json")))
    source = SheetsDataSource(sheets(replay), SHEET_ID, {"orders": "Orders!A1:E"})

    dataset = source.load()

    assert dataset.orders == (
        Order(
            order_id="ord-1001", customer_id="c-17", order_date=date(2026, 11, 2), amount_cents=4590
        ),
        Order(
            order_id="ord-1002",
            customer_id="c-18",
            order_date=date(2026, 11, 3),
            amount_cents=12000,
        ),
        Order(
            order_id="ord-1003", customer_id="c-17", order_date=date(2026, 11, 9), amount_cents=1225
        ),
    )
    assert dataset.customers[0] == Customer(
        customer_id="c-17",
        name="",
        email="",
        country="ZZ",
        signup_date=date(2026, 11, 2),
        acquisition_channel="search",
        plan="basic",
    )
    assert dataset.as_of == date(2026, 11, 9)


def test_a_bad_cell_is_named_by_range_sheet_row_and_column() -> None:
    values = payload("sheets_values_orders.json")
    values["range"] = "Orders!A3:E7"
    values["values"][4][3] = "12,25"  # fifth row of the range: sheet row 7
    replay = Replay(httpx.Response(200, json=values))
    source = SheetsDataSource(sheets(replay), SHEET_ID, {"orders": "Orders!A3:E"})

    with pytest.raises(CsvImportError) as caught:
        source.load()

    assert (caught.value.file, caught.value.row, caught.value.column) == (
        "Orders!A3:E7",
        7,
        "amount",
    )


def test_429_with_retry_after_is_retryable_and_carries_the_delay() -> None:
    replay = Replay(
        httpx.Response(429, json=payload("sheets_error_429.json"), headers={"Retry-After": "30"})
    )

    with pytest.raises(VendorRetryableError) as caught:
        sheets(replay, HttpPolicy(max_attempts=1)).read_range(SHEET_ID, "Orders!A1:E")

    assert (caught.value.vendor, caught.value.status, caught.value.retry_after_s) == (
        "sheets",
        429,
        30.0,
    )
    assert "(RESOURCE_EXHAUSTED)" in str(caught.value)


def test_400_is_permanent_with_googles_message() -> None:
    replay = Replay(httpx.Response(400, json=payload("sheets_error_400.json")))

    with pytest.raises(VendorPermanentError) as caught:
        sheets(replay).read_range(SHEET_ID, "Ordres!A1:E")

    assert str(caught.value) == (
        "sheets: HTTP 400: Unable to parse range: Ordres!A1:E (INVALID_ARGUMENT)"
    )
    assert len(replay.requests) == 1


class FakeCredentials:
    """Stands in for google-auth credentials: a token that refresh() renews."""

    def __init__(self) -> None:
        self.valid = False
        self.token: str | None = None
        self.refreshes = 0

    def refresh(self, request: object) -> None:
        self.refreshes += 1
        self.token = f"ya29.refreshed-{self.refreshes}"
        self.valid = True


def test_google_token_provider_refreshes_only_invalid_credentials() -> None:
    credentials = FakeCredentials()
    token = google_token_provider(credentials)

    first = token()
    second = token()
    credentials.valid = False  # expired
    third = token()

    assert (first, second, third) == ("ya29.refreshed-1", "ya29.refreshed-1", "ya29.refreshed-2")
