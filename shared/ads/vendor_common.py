"""What the three ad platform clients share: money in each platform's units, and finding our
campaign key in a campaign's name (no platform stores a field of ours, so the name carries
it, as "... [cmp-0123abcd...]")."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

KEY_IN_NAME = re.compile(r"\[(cmp-[a-z0-9]+)\]")
MICROS_PER_CENT = 10_000  # Google Ads: 1 unit of currency = 1,000,000 micros


def key_in_name(name: str | None) -> str | None:
    """Our campaign key carried in a platform campaign's name, or None."""
    match = KEY_IN_NAME.search(name or "")
    return match.group(1) if match else None


def cents_to_micros(cents: int) -> str:
    """Cents as Google Ads micros (an int64, sent as a JSON string)."""
    return str(cents * MICROS_PER_CENT)


def micros_to_cents(micros: str | int | None) -> int:
    """Google Ads micros as whole cents (rounded half up)."""
    value = Decimal(str(micros or 0)) / MICROS_PER_CENT
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decimal_to_cents(amount: str | float | None) -> int:
    """A decimal amount of currency ("12.34", as Meta's spend or LinkedIn's cost) as cents."""
    value = Decimal(str(amount or 0)) * 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_decimal(cents: int) -> str:
    """Cents as a decimal amount of currency ("25.00")."""
    return f"{Decimal(cents) / 100:.2f}"
