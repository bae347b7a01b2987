"""Figures as a reader writes them: amounts with their currency, shares as percentages,
returns as multiples, months by name. Babel holds each locale's rules (symbol, separators)."""

from __future__ import annotations

from datetime import date

from babel.numbers import format_currency, format_percent

LOCALE = "en"
NO_FIGURE = "\u2013"  # an en dash where a figure is missing
MINUS = "\u2212"  # the minus sign, not a hyphen
TIMES = "\u00d7"  # the multiplication sign of "1.52x"


def money(cents: float | None, currency: str) -> str:
    """1499485 cents of EUR -> "€14,994.85"; None -> NO_FIGURE."""
    if cents is None:
        return NO_FIGURE
    return str(format_currency(cents / 100, currency.upper(), locale=LOCALE))


def whole_money(cents: float | None, currency: str) -> str:
    """Like `money`, rounded to whole units (for chart axes): "€14,995"."""
    if cents is None:
        return NO_FIGURE
    return str(
        format_currency(
            round(cents / 100),
            currency.upper(),
            locale=LOCALE,
            format="¤#,##0",
            currency_digits=False,
        )
    )


def percent(share: float | None, digits: int = 1) -> str:
    """0.2433 -> "24.3%"."""
    if share is None:
        return NO_FIGURE
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return str(format_percent(share, format=pattern, locale=LOCALE))


def change(share: float | None) -> str:
    """A relative change with its sign: 0.2433 -> "+24.3%", -0.1 -> MINUS + "10.0%"."""
    if share is None:
        return NO_FIGURE
    sign = "+" if share > 0 else MINUS if share < 0 else "±"
    return f"{sign}{percent(abs(share))}"


def multiple(value: float | None) -> str:
    """A return on spend as a multiple: 1.5155 -> "1.52" + TIMES."""
    return NO_FIGURE if value is None else f"{value:,.2f}{TIMES}"


def month_name(key: str) -> str:
    """ "2026-10" -> "October 2026" (a key that is not a month is returned as it is)."""
    try:
        year, month = (int(part) for part in key.split("-")[:2])
        return date(year, month, 1).strftime("%B %Y")
    except ValueError:
        return key


def day_name(value: str | date | None) -> str:
    """ "2026-11-16" -> "16 November 2026"."""
    if value is None:
        return NO_FIGURE
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.day} {day:%B %Y}"
