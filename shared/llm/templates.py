"""Jinja templates for prompts, headlines and offline prose, with money and ratio filters.

Templates can be edited on the status page (act scope), so they render in Jinja's sandbox:
a template reaches the facts it is given and the filters here, never Python internals
(`''.__class__.__mro__` and the like raise SecurityError).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment


def _eur(cents: int | None) -> str:
    return "n/a" if cents is None else f"€{cents / 100:,.2f}"


def _pct(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio * 100:+.1f}%"


def _share(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio * 100:.1f}%"


def _times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}\u00d7"  # the multiplication sign


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


@lru_cache(maxsize=128)
def _compile(template: str) -> jinja2.Template:
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters["eur"] = _eur
    env.filters["pct"] = _pct
    env.filters["share"] = _share
    env.filters["times"] = _times
    env.filters["num"] = _num
    return env.from_string(template)


def render(template: str, facts: dict[str, Any]) -> str:
    """Render a template with the facts; a missing fact is an error, never a blank."""
    return _compile(template).render(**facts).strip()
