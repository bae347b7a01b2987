"""Monthly cohort retention: of the customers who first bought in a month, who came back when.

A customer's cohort is the calendar month of their first purchase. Cell (c, k) of the
retention matrix is the share of cohort c's customers who bought at least once in month
c + k; column 0 is therefore always 1.0. Rows are as long as the data allows: cohort c's row
ends with the month of `as_of` (default: the last purchase date), so later cohorts have
shorter rows and the matrix is a triangle, not a rectangle padded with made-up zeros. The last
month may be incomplete (`last_month_complete`), which understates its column. Purchases after
`as_of` are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from shared.analytics._numbers import ratio
from shared.analytics.transactions import Purchase
from shared.core.dataset import month_key


class CohortRetention(BaseModel):
    """Cohort sizes, active customers and retention shares by months since first purchase."""

    model_config = ConfigDict(frozen=True)
    as_of: date | None  # None when there were no purchases
    last_month_complete: bool
    cohorts: tuple[str, ...]  # "YYYY-MM", oldest first, months without new customers left out
    cohort_sizes: tuple[int, ...]
    active_customers: tuple[tuple[int, ...], ...]  # [c][k]: cohort c's buyers in month c + k
    retention: tuple[tuple[float, ...], ...]  # [c][k]: active_customers[c][k] / cohort_sizes[c]
    # Month k's retention over every cohort observed k months on, weighted by cohort size.
    average_retention: tuple[float, ...]


def monthly_cohort_retention(
    purchases: Iterable[Purchase], as_of: date | None = None
) -> CohortRetention:
    """The retention matrix of monthly first-purchase cohorts."""
    rows = list(purchases)
    if as_of is None:
        as_of = max((row.purchase_date for row in rows), default=None)
    if as_of is None:
        return CohortRetention(
            as_of=None,
            last_month_complete=False,
            cohorts=(),
            cohort_sizes=(),
            active_customers=(),
            retention=(),
            average_retention=(),
        )
    months_bought: dict[str, set[int]] = {}
    for row in rows:
        if row.purchase_date <= as_of:
            months_bought.setdefault(row.customer_id, set()).add(_month_index(row.purchase_date))

    last_index = _month_index(as_of)
    members: dict[int, list[set[int]]] = {}
    for months in months_bought.values():
        members.setdefault(min(months), []).append(months)

    cohorts, sizes, active, retention = [], [], [], []
    for cohort_index in sorted(members):
        customers = members[cohort_index]
        counts = tuple(
            sum(1 for months in customers if cohort_index + k in months)
            for k in range(last_index - cohort_index + 1)
        )
        cohorts.append(_month_label(cohort_index))
        sizes.append(len(customers))
        active.append(counts)
        retention.append(tuple(ratio(count, len(customers)) or 0.0 for count in counts))

    width = max((len(row) for row in active), default=0)
    average = tuple(
        ratio(
            sum(row[k] for row in active if len(row) > k),
            sum(size for row, size in zip(active, sizes, strict=True) if len(row) > k),
        )
        or 0.0
        for k in range(width)
    )
    return CohortRetention(
        as_of=as_of,
        last_month_complete=(as_of + timedelta(days=1)).month != as_of.month,
        cohorts=tuple(cohorts),
        cohort_sizes=tuple(sizes),
        active_customers=tuple(active),
        retention=tuple(retention),
        average_retention=average,
    )


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_label(index: int) -> str:
    return month_key(date(index // 12, index % 12 + 1, 1))
