"""Customer insights: RFM scores, segments, and who has churned.

RFM is computed over each customer's orders up to `as_of`: recency (days since the last
order), frequency (order count) and monetary (lifetime value in cents). Each is scored 1-5 by
quintile of the customers who ordered: a customer's score is `floor(5 * p) + 1` where `p` is
the mid-rank percentile `(worse + equal / 2) / n`, so tied customers share a score and a
single customer lands in the middle (3). For recency, fewer days is better.

Segments are assigned by the first matching rule:

| segment      | rule                                                        |
| ------------ | ----------------------------------------------------------- |
| new          | first order within `NEW_CUSTOMER_DAYS` of `as_of`           |
| champions    | R >= 4 and F >= 4 and M >= 4                                |
| loyal        | R >= 3 and F >= 3                                           |
| at_risk      | R <= 2 and F >= 3 (used to buy often, has gone quiet)       |
| hibernating  | R <= 2 and F <= 2                                           |
| promising    | everyone else (recent, but few orders so far)               |

A customer has *churned* when their last order is more than `churn_after_days` days before
`as_of`; the churn rate is churned customers over customers with at least one order.
Customers without any order are counted but neither scored nor churned; customers who
signed up after `as_of`, and orders of customers the data set does not list, are ignored.

`rfm_segments` applies the same scores and segments to a bare purchase log (a shop's own
export), where every purchase is an order and every customer in the log has bought.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.analytics._numbers import ratio
from shared.analytics.transactions import Purchase
from shared.core.dataset import Dataset

Segment = Literal["champions", "loyal", "promising", "new", "at_risk", "hibernating"]
SEGMENTS: tuple[Segment, ...] = ("champions", "loyal", "promising", "new", "at_risk", "hibernating")
NEW_CUSTOMER_DAYS = 30
TOP_CHURNED = 20


class CustomerRfm(BaseModel):
    """One customer's RFM values, scores and segment."""

    model_config = ConfigDict(frozen=True)
    customer_id: str
    recency_days: int
    frequency: int
    monetary_cents: int
    recency_score: int  # 1-5, 5 = most recent
    frequency_score: int  # 1-5, 5 = most orders
    monetary_score: int  # 1-5, 5 = highest lifetime value
    segment: Segment


class SegmentSummary(BaseModel):
    """How many customers fall into one segment and what they have spent."""

    model_config = ConfigDict(frozen=True)
    segment: Segment
    customer_count: int
    share_of_customers: float | None  # of customers with orders; None when there are none
    revenue_cents: int


class ChurnedCustomer(BaseModel):
    """A customer who stopped ordering, with what they were worth."""

    model_config = ConfigDict(frozen=True)
    customer_id: str
    name: str
    email: str
    last_order_date: date
    days_since_last_order: int
    order_count: int
    lifetime_value_cents: int


class InsightsReport(BaseModel):
    """RFM segmentation and churn of the customer base as of a date."""

    model_config = ConfigDict(frozen=True)
    as_of: date
    churn_after_days: int
    customer_count: int  # every customer who signed up by as_of
    customers_with_orders: int
    customers: tuple[CustomerRfm, ...]  # by customer_id
    segments: tuple[SegmentSummary, ...]  # every segment, in SEGMENTS order
    churned_count: int
    churn_rate: float | None  # churned / customers with orders
    churned_lifetime_value_cents: int
    top_churned: tuple[ChurnedCustomer, ...]  # highest lifetime value first, at most 20


def customer_segments(
    dataset: Dataset, as_of: date | None = None, churn_after_days: int = 90
) -> InsightsReport:
    """RFM scores, segment counts and churned customers as of a date (default: the data's)."""
    as_of = dataset.as_of if as_of is None else as_of
    customers = sorted(
        (customer for customer in dataset.customers if customer.signup_date <= as_of),
        key=lambda customer: customer.customer_id,
    )
    known_ids = {customer.customer_id for customer in customers}
    first_order: dict[str, date] = {}
    last_order: dict[str, date] = {}
    frequency: dict[str, int] = {}
    monetary: dict[str, int] = {}
    for order in dataset.orders:
        customer_id = order.customer_id
        if order.order_date > as_of or customer_id not in known_ids:
            continue
        first_order[customer_id] = min(
            first_order.get(customer_id, order.order_date), order.order_date
        )
        last_order[customer_id] = max(
            last_order.get(customer_id, order.order_date), order.order_date
        )
        frequency[customer_id] = frequency.get(customer_id, 0) + 1
        monetary[customer_id] = monetary.get(customer_id, 0) + order.amount_cents

    buyers = [customer for customer in customers if customer.customer_id in frequency]
    recency = {cid: (as_of - last_order[cid]).days for cid in frequency}
    ids = [customer.customer_id for customer in buyers]
    # Negated so that "higher is better" holds for all three scores.
    recency_scores = _quintile_scores([-recency[cid] for cid in ids])
    frequency_scores = _quintile_scores([frequency[cid] for cid in ids])
    monetary_scores = _quintile_scores([monetary[cid] for cid in ids])

    rfm = tuple(
        CustomerRfm(
            customer_id=cid,
            recency_days=recency[cid],
            frequency=frequency[cid],
            monetary_cents=monetary[cid],
            recency_score=r_score,
            frequency_score=f_score,
            monetary_score=m_score,
            segment=_segment((as_of - first_order[cid]).days, r_score, f_score, m_score),
        )
        for cid, r_score, f_score, m_score in zip(
            ids, recency_scores, frequency_scores, monetary_scores, strict=True
        )
    )
    segments = tuple(
        SegmentSummary(
            segment=segment,
            customer_count=sum(1 for row in rfm if row.segment == segment),
            share_of_customers=ratio(sum(1 for row in rfm if row.segment == segment), len(rfm)),
            revenue_cents=sum(row.monetary_cents for row in rfm if row.segment == segment),
        )
        for segment in SEGMENTS
    )

    churned = [
        ChurnedCustomer(
            customer_id=customer.customer_id,
            name=customer.name,
            email=customer.email,
            last_order_date=last_order[customer.customer_id],
            days_since_last_order=recency[customer.customer_id],
            order_count=frequency[customer.customer_id],
            lifetime_value_cents=monetary[customer.customer_id],
        )
        for customer in buyers
        if recency[customer.customer_id] > churn_after_days
    ]
    churned.sort(key=lambda row: (-row.lifetime_value_cents, row.customer_id))
    return InsightsReport(
        as_of=as_of,
        churn_after_days=churn_after_days,
        customer_count=len(customers),
        customers_with_orders=len(buyers),
        customers=rfm,
        segments=segments,
        churned_count=len(churned),
        churn_rate=ratio(len(churned), len(buyers)),
        churned_lifetime_value_cents=sum(row.lifetime_value_cents for row in churned),
        top_churned=tuple(churned[:TOP_CHURNED]),
    )


class RfmReport(BaseModel):
    """RFM scores and segments of the customers in a purchase log."""

    model_config = ConfigDict(frozen=True)
    as_of: date | None  # None for an empty log
    customers: tuple[CustomerRfm, ...]  # by customer_id
    segments: tuple[SegmentSummary, ...]  # every segment, in SEGMENTS order


def rfm_segments(purchases: Iterable[Purchase], as_of: date | None = None) -> RfmReport:
    """RFM scores and segments from a purchase log as of a date (default: its last day)."""
    rows = list(purchases)
    if as_of is None:
        as_of = max((row.purchase_date for row in rows), default=None)
        if as_of is None:
            return RfmReport(as_of=None, customers=(), segments=_segment_summaries(()))
    first: dict[str, date] = {}
    last: dict[str, date] = {}
    frequency: dict[str, int] = {}
    monetary: dict[str, int] = {}
    for row in rows:
        if row.purchase_date > as_of:
            continue
        cid = row.customer_id
        first[cid] = min(first.get(cid, row.purchase_date), row.purchase_date)
        last[cid] = max(last.get(cid, row.purchase_date), row.purchase_date)
        frequency[cid] = frequency.get(cid, 0) + 1
        monetary[cid] = monetary.get(cid, 0) + row.amount_cents
    ids = sorted(frequency)
    recency = {cid: (as_of - last[cid]).days for cid in ids}
    scored = zip(
        ids,
        _quintile_scores([-recency[cid] for cid in ids]),
        _quintile_scores([frequency[cid] for cid in ids]),
        _quintile_scores([monetary[cid] for cid in ids]),
        strict=True,
    )
    customers = tuple(
        CustomerRfm(
            customer_id=cid,
            recency_days=recency[cid],
            frequency=frequency[cid],
            monetary_cents=monetary[cid],
            recency_score=r_score,
            frequency_score=f_score,
            monetary_score=m_score,
            segment=_segment((as_of - first[cid]).days, r_score, f_score, m_score),
        )
        for cid, r_score, f_score, m_score in scored
    )
    return RfmReport(as_of=as_of, customers=customers, segments=_segment_summaries(customers))


def _segment_summaries(rows: Sequence[CustomerRfm]) -> tuple[SegmentSummary, ...]:
    return tuple(
        SegmentSummary(
            segment=segment,
            customer_count=sum(1 for row in rows if row.segment == segment),
            share_of_customers=ratio(sum(1 for row in rows if row.segment == segment), len(rows)),
            revenue_cents=sum(row.monetary_cents for row in rows if row.segment == segment),
        )
        for segment in SEGMENTS
    )


def _quintile_scores(values: Sequence[int]) -> list[int]:
    """Score each value 1-5 by its mid-rank percentile among all values (higher is better)."""
    count = len(values)
    ordered = sorted(values)
    scores = []
    for value in values:
        worse = bisect_left(ordered, value)
        equal = bisect_right(ordered, value) - worse
        # floor(5 * (worse + equal / 2) / count) + 1, in integers to stay exact.
        scores.append(5 * (2 * worse + equal) // (2 * count) + 1)
    return scores


def _segment(days_since_first_order: int, r_score: int, f_score: int, m_score: int) -> Segment:
    if days_since_first_order <= NEW_CUSTOMER_DAYS:
        return "new"
    if r_score >= 4 and f_score >= 4 and m_score >= 4:
        return "champions"
    if r_score >= 3 and f_score >= 3:
        return "loyal"
    if r_score <= 2 and f_score >= 3:
        return "at_risk"
    if r_score <= 2:
        return "hibernating"
    return "promising"
