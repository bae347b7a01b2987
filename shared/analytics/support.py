"""Support analytics: ticket volume, speed, resolution and satisfaction.

Windows are whole days in UTC: *this window* is the `window_days` days ending on `as_of`
(inclusive), the *previous window* the `window_days` days before it. Tickets created after
`as_of` are ignored. Percentiles interpolate linearly between ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, timedelta

from pydantic import BaseModel, ConfigDict

from shared.analytics._numbers import growth, percentile, ratio
from shared.core.dataset import (
    TICKET_CATEGORIES,
    TICKET_PRIORITIES,
    Dataset,
    SupportTicket,
    TicketCategory,
    TicketPriority,
)


class TicketStats(BaseModel):
    """Volume, speed, resolution and satisfaction of a set of tickets."""

    model_config = ConfigDict(frozen=True)
    start: date | None  # first day covered; None for "everything up to as_of"
    end: date  # last day covered, inclusive
    ticket_count: int
    by_category: dict[TicketCategory, int]  # every category, in a fixed order
    by_priority: dict[TicketPriority, int]  # every priority, in a fixed order
    median_first_response_minutes: float | None
    p90_first_response_minutes: float | None
    resolved_count: int
    unresolved_count: int
    resolution_rate: float | None
    csat_responses: int
    average_csat: float | None
    top_category: TicketCategory | None  # most tickets; ties go to the earlier category


class CategoryTrend(BaseModel):
    """This window's top category, compared with the same category in the previous window."""

    model_config = ConfigDict(frozen=True)
    category: TicketCategory
    this_window_count: int
    previous_window_count: int
    change: float | None  # relative change; None when the previous window had none


class SupportReport(BaseModel):
    """Support overall, this window, the previous window, and the top category's trend."""

    model_config = ConfigDict(frozen=True)
    as_of: date
    window_days: int
    overall: TicketStats
    this_window: TicketStats
    previous_window: TicketStats
    top_category_trend: CategoryTrend | None  # None when this window has no tickets


def ticket_summary(
    dataset: Dataset, as_of: date | None = None, window_days: int = 7
) -> SupportReport:
    """Ticket statistics overall and for the last window_days vs the window before."""
    if window_days < 1:
        raise ValueError(f"window_days must be >= 1, got {window_days}")
    as_of = dataset.as_of if as_of is None else as_of
    window_start = as_of - timedelta(days=window_days - 1)
    previous_end = window_start - timedelta(days=1)
    previous_start = window_start - timedelta(days=window_days)
    tickets = [ticket for ticket in dataset.tickets if _day(ticket) <= as_of]

    overall = _ticket_stats(tickets, None, as_of)
    this_window = _ticket_stats(
        [ticket for ticket in tickets if window_start <= _day(ticket)], window_start, as_of
    )
    previous_window = _ticket_stats(
        [ticket for ticket in tickets if previous_start <= _day(ticket) <= previous_end],
        previous_start,
        previous_end,
    )
    trend = None
    if this_window.top_category is not None:
        category = this_window.top_category
        this_count = this_window.by_category[category]
        previous_count = previous_window.by_category[category]
        trend = CategoryTrend(
            category=category,
            this_window_count=this_count,
            previous_window_count=previous_count,
            change=growth(this_count, previous_count),
        )
    return SupportReport(
        as_of=as_of,
        window_days=window_days,
        overall=overall,
        this_window=this_window,
        previous_window=previous_window,
        top_category_trend=trend,
    )


def _day(ticket: SupportTicket) -> date:
    created_at = ticket.created_at
    # Windows are UTC days; a naive timestamp is taken to be UTC already.
    return (created_at.astimezone(UTC) if created_at.tzinfo else created_at).date()


def _ticket_stats(tickets: Sequence[SupportTicket], start: date | None, end: date) -> TicketStats:
    by_category: dict[TicketCategory, int] = dict.fromkeys(TICKET_CATEGORIES, 0)
    by_priority: dict[TicketPriority, int] = dict.fromkeys(TICKET_PRIORITIES, 0)
    for ticket in tickets:
        by_category[ticket.category] += 1
        by_priority[ticket.priority] += 1
    response_minutes = [ticket.first_response_minutes for ticket in tickets]
    resolved = sum(1 for ticket in tickets if ticket.resolved)
    scores = [ticket.csat for ticket in tickets if ticket.csat is not None]
    # max keeps the first of equals, so ties go to the earlier category in the fixed order.
    most_tickets = max(TICKET_CATEGORIES, key=by_category.__getitem__)
    top_category = most_tickets if tickets else None
    return TicketStats(
        start=start,
        end=end,
        ticket_count=len(tickets),
        by_category=by_category,
        by_priority=by_priority,
        median_first_response_minutes=percentile(response_minutes, 0.5),
        p90_first_response_minutes=percentile(response_minutes, 0.9),
        resolved_count=resolved,
        unresolved_count=len(tickets) - resolved,
        resolution_rate=ratio(resolved, len(tickets)),
        csat_responses=len(scores),
        average_csat=ratio(sum(scores), len(scores)),
        top_category=top_category,
    )
