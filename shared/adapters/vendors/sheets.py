"""Google Sheets API v4: read a range, append rows, and a data source on ranges.

API: https://sheets.googleapis.com, an OAuth 2.0 access token as `Authorization: Bearer ...`
with the spreadsheets scope. The token comes from a `TokenProvider`, called before every
request so it may refresh: `google_token_provider()` in production (Application Default
Credentials, e.g. the function's service account, which needs access to the spreadsheet),
a lambda returning a fixed string in tests.

- Read: `GET /v4/spreadsheets/{id}/values/{range}` answers a ValueRange
  `{"range": "Sheet1!A1:D5", "majorDimension": "ROWS", "values": [[...], ...]}`; trailing
  empty rows and cells are left out, and `values` is absent when the range is empty. Values
  are read unformatted (a currency format does not turn 12.5 into "€12.50"), dates as the
  sheet displays them, so date cells should display ISO dates (yyyy-mm-dd) or hold text.
- Append: `POST /v4/spreadsheets/{id}/values/{range}:append?valueInputOption=USER_ENTERED
  &insertDataOption=INSERT_ROWS` with a ValueRange body `{"range", "majorDimension": "ROWS",
  "values"}`; answers `{"spreadsheetId", "tableRange", "updates": {"updatedRange",
  "updatedRows", ...}}`. Rows are inserted after the table rather than overwriting cells.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.adapters.csv_source import CustomerDefaults, TableRows, dataset_from_tables
from shared.core.dataset import Dataset
from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError

SHEETS_API = "https://sheets.googleapis.com"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
VENDOR = "sheets"

TokenProvider = Callable[[], str]
CellValue = str | int | float | bool
Model = TypeVar("Model", bound=BaseModel)

_FIRST_ROW = re.compile(r"^\$?[A-Za-z]*\$?(\d+)")


class ValueRange(BaseModel):
    """Cells of a range, row by row."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    range: str
    major_dimension: Literal["ROWS", "COLUMNS"] = Field(default="ROWS", alias="majorDimension")
    values: list[list[Any]] = Field(default_factory=list)


class UpdatedValues(BaseModel):
    """Which cells an append wrote."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    spreadsheet_id: str = Field(alias="spreadsheetId")
    updated_range: str = Field(default="", alias="updatedRange")
    updated_rows: int = Field(default=0, alias="updatedRows")
    updated_columns: int = Field(default=0, alias="updatedColumns")
    updated_cells: int = Field(default=0, alias="updatedCells")


class AppendResult(BaseModel):
    """The answer to an append: the table found and the cells written."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    spreadsheet_id: str = Field(alias="spreadsheetId")
    table_range: str = Field(default="", alias="tableRange")
    updates: UpdatedValues


class SheetsClient:
    """Reads and appends spreadsheet values."""

    def __init__(
        self,
        token_provider: TokenProvider,
        *,
        client: httpx.Client | None = None,
        base_url: str = SHEETS_API,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = VendorHttp(
            VENDOR,
            base_url,
            auth_headers=lambda: {"Authorization": f"Bearer {token_provider()}"},
            error_message=google_error_message,
            client=client,
            policy=policy,
            sleep=sleep,
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self.http.close()

    def read_range(self, spreadsheet_id: str, range_a1: str) -> ValueRange:
        """The values of a range in A1 notation, e.g. "Orders!A1:E"."""
        data = self.http.request_json(
            "GET",
            _values_path(spreadsheet_id, range_a1),
            params=[
                ("majorDimension", "ROWS"),
                ("valueRenderOption", "UNFORMATTED_VALUE"),
                ("dateTimeRenderOption", "FORMATTED_STRING"),
            ],
        )
        return _parse(ValueRange, data, "value range")

    def append_rows(
        self,
        spreadsheet_id: str,
        range_a1: str,
        rows: Sequence[Sequence[CellValue]],
        *,
        value_input_option: Literal["USER_ENTERED", "RAW"] = "USER_ENTERED",
    ) -> AppendResult:
        """Append rows after the table found in the range; USER_ENTERED parses as typed."""
        data = self.http.request_json(
            "POST",
            _values_path(spreadsheet_id, range_a1) + ":append",
            params=[
                ("valueInputOption", value_input_option),
                ("insertDataOption", "INSERT_ROWS"),
            ],
            json={"range": range_a1, "majorDimension": "ROWS", "values": [list(r) for r in rows]},
        )
        return _parse(AppendResult, data, "append response")


def google_error_message(body: Any) -> str | None:
    """The message of Google's error body `{"error": {"code", "message", "status"}}`."""
    error = body["error"]
    message = error.get("message")
    status = error.get("status")
    return f"{message} ({status})" if message and status else message


def google_token_provider(
    credentials: Any = None, scopes: Sequence[str] = (SHEETS_SCOPE,)
) -> TokenProvider:
    """Access tokens from google-auth credentials (default: ADC), refreshed when expired."""
    import google.auth
    from google.auth.transport.requests import Request

    if credentials is None:
        credentials, _ = google.auth.default(scopes=list(scopes))

    def token() -> str:
        if not credentials.valid:
            credentials.refresh(Request())
        return str(credentials.token)

    return token


class SheetsDataSource:
    """The DataSource port on spreadsheet ranges laid out like the CSV import's files.

    `ranges` maps table names ("orders", "customers", ...) to A1 ranges whose first row is
    the header; the rules of `shared.adapters.csv_source` apply, and errors name the range
    and the sheet's row number.
    """

    def __init__(
        self,
        client: SheetsClient,
        spreadsheet_id: str,
        ranges: Mapping[str, str],
        *,
        as_of: date | None = None,
        columns: Mapping[str, Mapping[str, str]] | None = None,
        defaults: CustomerDefaults | None = None,
        create_missing_customers: bool = True,
    ) -> None:
        self.client = client
        self.spreadsheet_id = spreadsheet_id
        self.ranges = dict(ranges)
        self.as_of = as_of
        self.columns = columns
        self.defaults = defaults
        self.create_missing_customers = create_missing_customers

    def load(self) -> Dataset:
        """The ranges as they are now, as a data set."""
        tables = {
            table: table_rows(self.client.read_range(self.spreadsheet_id, range_a1))
            for table, range_a1 in self.ranges.items()
        }
        return dataset_from_tables(
            tables,
            as_of=self.as_of,
            columns=self.columns,
            defaults=self.defaults,
            create_missing_customers=self.create_missing_customers,
        )


def table_rows(value_range: ValueRange) -> TableRows:
    """A value range as a table: first row the header, rows numbered as the sheet shows them."""
    if value_range.major_dimension != "ROWS":
        raise VendorPermanentError(VENDOR, f"{value_range.range}: expected rows, got columns")
    if not value_range.values:
        return TableRows(source=value_range.range, header=(), rows=())
    first = _first_row(value_range.range)
    header, *rows = ([_cell_text(value) for value in row] for row in value_range.values)
    return TableRows(
        source=value_range.range,
        header=header,
        rows=[(first + offset, row) for offset, row in enumerate(rows, start=1) if any(row)],
    )


def _values_path(spreadsheet_id: str, range_a1: str) -> str:
    return f"/v4/spreadsheets/{quote(spreadsheet_id, safe='')}/values/{quote(range_a1, safe='!:')}"


def _first_row(range_a1: str) -> int:
    cells = range_a1.rsplit("!", 1)[-1]
    match = _FIRST_ROW.match(cells.split(":", 1)[0])
    return int(match.group(1)) if match else 1


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse(model: type[Model], data: Any, what: str) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise VendorPermanentError(VENDOR, f"unexpected {what} shape: {error}") from error
