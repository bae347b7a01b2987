"""RowExporter implementations: a Google Sheet, or a Firestore document locally."""

from __future__ import annotations

from typing import Any

from shared.adapters.vendors.sheets import SheetsClient
from shared.gcp.firestore import FirestoreAdapter, firestore_safe


class FirestoreRowExporter(FirestoreAdapter):
    """sheet_exports/{run}: the rows a sheet would get (overwritten, so exactly once)."""

    def export_rows(self, run_id: str, rows: list[list[Any]]) -> None:
        """Store the run's rows."""
        self.client.collection("sheet_exports").document(run_id).set(
            {"run_id": run_id, "rows": firestore_safe(rows)}
        )


class SheetsRowExporter:
    """Appends a run's rows to a Google Sheet range (Sheets gives no deduplication)."""

    def __init__(self, client: SheetsClient, spreadsheet_id: str, range_: str) -> None:
        self.client = client
        self.spreadsheet_id = spreadsheet_id
        self.range = range_

    def export_rows(self, run_id: str, rows: list[list[Any]]) -> None:
        """Append the run's rows below the sheet's data."""
        self.client.append_rows(self.spreadsheet_id, self.range, rows)
