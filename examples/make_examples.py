"""Write the example CSVs of `controlroom analyze` from the bundled sample shop.

    .venv/bin/python examples/make_examples.py      # rewrites examples/*.csv

The files are committed; this script is how they were made (the sample is deterministic, so
running it again gives the same files).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path

from shared.adapters.sample_source import SampleDataSource

HERE = Path(__file__).resolve().parent
AS_OF = date(2026, 11, 16)


def _write(name: str, header: list[str], rows: list[list[object]]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    data = SampleDataSource(AS_OF).load()
    orders = sorted(data.orders, key=lambda o: (o.order_date, o.order_id))
    _write(
        "orders.csv",
        ["customer_id", "date", "amount"],
        [[o.customer_id, o.order_date.isoformat(), f"{o.amount_cents / 100:.2f}"] for o in orders],
    )
    monthly: dict[str, int] = defaultdict(int)
    for order in orders:
        if order.order_date < AS_OF.replace(day=1):  # complete months only
            monthly[order.order_date.strftime("%Y-%m-01")] += order.amount_cents
    _write(
        "revenue.csv",
        ["date", "value"],
        [[m, f"{c / 100:.2f}"] for m, c in sorted(monthly.items())],
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in data.campaigns:
        figures = (row.impressions, row.clicks, row.conversions, row.spend_cents, row.revenue_cents)
        totals[row.channel] = [a + b for a, b in zip(totals[row.channel], figures, strict=True)]
    _write(
        "campaigns.csv",
        ["channel", "impressions", "clicks", "conversions", "spend", "revenue"],
        [
            [ch, i, c, v, f"{s / 100:.2f}", f"{r / 100:.2f}"]
            for ch, (i, c, v, s, r) in sorted(totals.items())
        ],
    )


if __name__ == "__main__":
    main()
