"""PII masking: e-mail addresses, phone numbers and card numbers become numbered placeholders.

A prompt is masked before it leaves the process and the answer is restored afterwards:

    mask = PiiMask()
    sent = mask.mask("Write to ana@example.com")   # "Write to <EMAIL_1>"
    mask.restore("I wrote to <EMAIL_1>.")            # "I wrote to ana@example.com."

The same value gets the same placeholder within one mask, so masked prompts (and the cache
keys built from them) are deterministic. Card numbers are only masked when their Luhn check
digit is right, so order numbers and amounts stay readable; phone numbers must start with
`+`, `00`, `0` or an area code in brackets (or look like a North American number), so
dates, months and figures are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL = re.compile(r"(?<![\w.+-])[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# 13-19 digits, written as cards are: 4-4-4-4(-3), Amex/Diners 4-6-5 or 4-6-4 (grouped by
# a space or a dash), or in one run. Only card groupings, so that a card written right after
# a phone number ("+44 20 7946 0958 4242 4242 4242 4242") is not read as one long number
# that fails the Luhn check and leaves the card readable.
CARD = re.compile(
    r"(?<![\w+])(?:\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{3})?|\d{4}[ -]?\d{6}[ -]?\d{4,5}|\d{13,19})"
    r"(?![\w])"
)
# A run of digits and the separators phone numbers are written with; checked by _is_phone.
PHONE = re.compile(r"(?<![\w+])(?:\+|\()?\d[\d ().\/-]{5,}\d(?![\w])")
AREA_CODE = re.compile(r"\(\d{1,5}\)")
NANP = re.compile(r"\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}")
PLACEHOLDER = re.compile(r"<(EMAIL|PHONE|CARD)_(\d+)>")


def luhn_valid(digits: str) -> bool:
    """True when the last digit is the Luhn check digit of the others."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _is_card(candidate: str) -> bool:
    digits = _digits(candidate)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _is_phone(candidate: str) -> bool:
    digits = _digits(candidate)
    if candidate.startswith(("+", "00")):
        return 8 <= len(digits) <= 15
    if candidate.startswith("0") or AREA_CODE.match(candidate):
        return 9 <= len(digits) <= 15
    return NANP.fullmatch(candidate) is not None


class PiiMask:
    """Masks PII in texts with numbered placeholders and restores it in answers."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}  # value -> placeholder
        self._values: dict[str, str] = {}  # placeholder -> value
        self._counts: dict[str, int] = {}

    @property
    def found(self) -> dict[str, str]:
        """Placeholder -> original value, for everything masked so far."""
        return dict(self._values)

    def mask(self, text: str) -> str:
        """The text with every e-mail, phone and card number replaced by a placeholder."""
        text = self._replace(EMAIL, "EMAIL", text, lambda _: True)
        text = self._replace(CARD, "CARD", text, _is_card)
        return self._replace(PHONE, "PHONE", text, _is_phone)

    def restore(self, text: str) -> str:
        """The text with this mask's placeholders replaced by the values they stand for."""
        return PLACEHOLDER.sub(lambda m: self._values.get(m.group(0), m.group(0)), text)

    def _replace(
        self, pattern: re.Pattern[str], kind: str, text: str, accept: Callable[[str], bool]
    ) -> str:
        # A rejected candidate is retried from its next character rather than skipped whole:
        # a card may start inside a longer run of digit groups that is not itself a card.
        parts: list[str] = []
        position = 0
        search_from = 0
        while (match := pattern.search(text, search_from)) is not None:
            value = match.group(0)
            if not accept(value):
                search_from = match.start() + 1
                continue
            parts.append(text[position : match.start()])
            parts.append(self._placeholder(kind, value))
            position = search_from = match.end()
        parts.append(text[position:])
        return "".join(parts)

    def _placeholder(self, kind: str, value: str) -> str:
        if value not in self._placeholders:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"<{kind}_{self._counts[kind]}>"
            self._placeholders[value] = placeholder
            self._values[placeholder] = value
        return self._placeholders[value]
