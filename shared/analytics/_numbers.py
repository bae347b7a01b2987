"""Arithmetic shared by the analytics: safe ratios, cent rounding, percentiles, months.

Conventions: money is integer cents; a ratio is a float rounded to `RATIO_DECIMALS`; anything
undefined (division by zero, no data) is None rather than 0, so prose never reports a made-up
figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

RATIO_DECIMALS = 4


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator rounded to RATIO_DECIMALS, or None when the denominator is 0."""
    if denominator == 0:
        return None
    return round(numerator / denominator, RATIO_DECIMALS)


def growth(current: float, previous: float | None) -> float | None:
    """Relative change (current - previous) / previous, or None without a non-zero previous."""
    if previous is None or previous == 0:
        return None
    return round((current - previous) / previous, RATIO_DECIMALS)


def divide_cents(total_cents: int, count: int) -> int | None:
    """total_cents / count rounded half up to whole cents, or None when count is 0."""
    if count == 0:
        return None
    # Integer arithmetic: float division would misround large totals.
    return (2 * total_cents + count) // (2 * count)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The percentile with linear interpolation between ranks (numpy's default), or None."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    weight = position - lower
    return round(ordered[lower] + (ordered[upper] - ordered[lower]) * weight, RATIO_DECIMALS)


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def add_months(first_of_month: date, months: int) -> date:
    """The first day of the month `months` after (or before, if negative) the given one."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def next_month_start(day: date) -> date:
    """The first day of the month after the day's month."""
    return add_months(month_start(day), 1)
