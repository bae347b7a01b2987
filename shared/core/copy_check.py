"""What a customer must never read in copy a run wrote for them (an ad, an email, a reply).

`copy_problems(text, internal=...)` lists, in words, what is wrong with a text:

- template syntax left in it (`{{ name }}`, `{% if %}`, `${name}`) or a placeholder never
  filled (`[first name]`, `<customer>`, `{name}`, `FIRST_NAME`);
- internal ids (`cus_0162`, `run-…`, `weekly_gtm-…`);
- audience counts ("2 people like you", "(143 people)");
- any of the `internal` phrases: how the audience was selected (a segment's rule text, its
  name), which the people in it should never see.

A step that writes such copy fails with the problems named, before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\$\{[^}]*\}")
_PLACEHOLDER = re.compile(
    r"\[(?:first[ _]?name|last[ _]?name|name|customer|company|product|date|link|url|code)\]|"
    r"<(?:first[ _]?name|name|customer|company|product|date|link|code)>|"
    r"\{[a-z_]{2,30}\}|\b(?:FIRST_NAME|LAST_NAME|CUSTOMER_NAME|DISCOUNT_CODE)\b",
    re.IGNORECASE,
)
_INTERNAL_ID = re.compile(
    r"\bcus_\d+\b|\b(?:weekly_gtm|winback|growth|ad_performance)-[0-9a-f]{6,}\b|\brun-[\w-]{6,}\b"
)
_AUDIENCE_COUNT = re.compile(
    r"\b\d[\d,]*\s+(?:people|users|customers|shoppers|members)\s+(?:like you|just like you)\b|"
    r"\(\s*\d[\d,]*\s+(?:people|users|customers|members)\s*\)",
    re.IGNORECASE,
)
MIN_PHRASE_CHARS = 8  # shorter internal phrases ("new", "vip") are ordinary words in copy


def copy_problems(text: str, internal: Iterable[str] = (), quoted: str = "") -> list[str]:
    """Everything in `text` a customer must not read, each said in words; [] when clean.

    `quoted` is text the copy may repeat as it is (a support answer's help-centre passages):
    what is found there too was written for customers by the shop, not left by a template.
    """
    problems: list[str] = []
    for pattern, what in (
        (_TEMPLATE, "template syntax"),
        (_PLACEHOLDER, "an unfilled placeholder"),
        (_INTERNAL_ID, "an internal id"),
        (_AUDIENCE_COUNT, "an audience count"),
    ):
        found = next((m for m in pattern.finditer(text) if m.group(0) not in quoted), None)
        if found:
            problems.append(f"{what}: {found.group(0)!r}")
    lowered = " ".join(text.lower().split())
    for phrase in internal:
        plain = " ".join(str(phrase).lower().split())
        if len(plain) >= MIN_PHRASE_CHARS and plain in lowered:
            problems.append(f"how the audience was chosen: {phrase!r}")
    return problems
