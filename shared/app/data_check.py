"""What the agents will find in the configured business data, before a run finds out (pure).

`check_dataset(dataset, source)` says, per kind of data the agents read: how many rows, the
dates they span, their currency, and then which sections of the weekly report will come out
empty or partial, and why, in the words a person can act on ("no support tickets: the
support section will be empty; Stripe and CSV exports carry none").

Kinds: customers, orders, subscriptions, tickets, channel_spend, campaigns, and budgets,
which no source supplies yet (always missing, said so). A kind with no rows is "missing";
nothing is ever made up to fill it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel

from shared.core.dataset import Dataset

MIN_FORECAST_MONTHS = 2  # complete months of revenue the forecast needs to fit anything


class KindSummary(BaseModel):
    """One kind of data as the source holds it."""

    kind: str
    rows: int
    first: date | None
    last: date | None
    currency: str | None
    state: Literal["present", "missing"]


class SectionOutlook(BaseModel):
    """One report section: complete, partial or empty, and why."""

    section: str
    outlook: Literal["complete", "partial", "empty"]
    why: str


class DataCheck(BaseModel):
    """`controlroom data check`: the source, its kinds, and what the report will say."""

    source: str
    as_of: date
    cached_because: str | None
    kinds: list[KindSummary]
    sections: list[SectionOutlook]


def _span(days: Sequence[date]) -> tuple[date | None, date | None]:
    return (min(days), max(days)) if days else (None, None)


def _kind(kind: str, days: Sequence[date], currencies: Sequence[str] = ()) -> KindSummary:
    first, last = _span(days)
    found = sorted(set(currencies))
    return KindSummary(
        kind=kind,
        rows=len(days),
        first=first,
        last=last,
        currency=", ".join(found) if found else None,
        state="present" if days else "missing",
    )


def _complete_months(dataset: Dataset) -> int:
    """Months with orders that ended on or before `as_of` (its own month only on its last day)."""
    tomorrow = date.fromordinal(dataset.as_of.toordinal() + 1)
    current = tomorrow.strftime("%Y-%m")  # the first month not yet complete
    return len({o.order_date.strftime("%Y-%m") for o in dataset.orders} - {current})


def check_dataset(dataset: Dataset, source: str) -> DataCheck:
    """Every kind's summary and every section's outlook for `dataset` read from `source`."""
    kinds = [
        _kind("customers", [c.signup_date for c in dataset.customers]),
        _kind(
            "orders", [o.order_date for o in dataset.orders], [o.currency for o in dataset.orders]
        ),
        _kind(
            "subscriptions",
            [s.start_date for s in dataset.subscriptions],
            [s.currency for s in dataset.subscriptions],
        ),
        _kind("tickets", [t.created_at.date() for t in dataset.tickets]),
        _kind(
            "channel_spend", [date.fromisoformat(f"{s.month}-01") for s in dataset.channel_spend]
        ),
        _kind("campaigns", [c.day for c in dataset.campaigns]),
        _kind("budgets", []),
    ]
    return DataCheck(
        source=source,
        as_of=dataset.as_of,
        cached_because=dataset.cached_because,
        kinds=kinds,
        sections=_sections(dataset, source),
    )


def _sections(dataset: Dataset, source: str) -> list[SectionOutlook]:
    has = {
        "orders": bool(dataset.orders),
        "customers": bool(dataset.customers),
        "subscriptions": bool(dataset.subscriptions),
        "tickets": bool(dataset.tickets),
        "spend": bool(dataset.channel_spend),
        "campaigns": bool(dataset.campaigns),
    }
    months = _complete_months(dataset)
    sections = []
    if not has["orders"]:
        sections.append(SectionOutlook(section="finance", outlook="empty", why="no orders"))
    elif months < MIN_FORECAST_MONTHS:
        why = f"{months} complete month(s) of orders: no forecast (it needs {MIN_FORECAST_MONTHS})"
        sections.append(SectionOutlook(section="finance", outlook="partial", why=why))
    elif not has["subscriptions"]:
        why = "no subscriptions: MRR and retention are estimated from repeat orders"
        sections.append(SectionOutlook(section="finance", outlook="partial", why=why))
    else:
        sections.append(
            SectionOutlook(section="finance", outlook="complete", why="orders and subscriptions")
        )
    if not has["orders"]:
        sections.append(SectionOutlook(section="insights", outlook="empty", why="no orders"))
    else:
        sections.append(
            SectionOutlook(
                section="insights",
                outlook="complete",
                why="RFM, cohorts and BG/NBD from the orders",
            )
        )
    if not has["spend"] and not has["campaigns"]:
        why = "no channel spend and no campaign results: no return on ad spend per channel"
        sections.append(SectionOutlook(section="marketing", outlook="empty", why=why))
    elif not has["campaigns"]:
        why = "channel spend only: return on spend per channel, no funnel (no campaign results)"
        sections.append(SectionOutlook(section="marketing", outlook="partial", why=why))
    else:
        sections.append(
            SectionOutlook(
                section="marketing", outlook="complete", why="spend and campaign results"
            )
        )
    if not has["tickets"]:
        why = "no support tickets: the support section will be empty (this source holds none)"
        sections.append(SectionOutlook(section="support", outlook="empty", why=why))
    else:
        sections.append(
            SectionOutlook(section="support", outlook="complete", why="support tickets")
        )
    emails = sum(1 for c in dataset.customers if c.email)
    if not has["orders"] or not emails:
        why = "no orders" if not has["orders"] else "no customer has an email address"
        sections.append(SectionOutlook(section="winback", outlook="empty", why=why))
    elif emails < len(dataset.customers):
        missing = len(dataset.customers) - emails
        why = f"{missing} of {len(dataset.customers)} customers have no email address"
        sections.append(SectionOutlook(section="winback", outlook="partial", why=why))
    else:
        sections.append(
            SectionOutlook(
                section="winback", outlook="complete", why="orders and every customer's email"
            )
        )
    sections.append(
        SectionOutlook(
            section="budget vs actual", outlook="empty", why="no source supplies budgets yet"
        )
    )
    return sections
