"""Purchase logs: the (customer, date, amount) rows that churn, cohort and RFM analyses read.

A purchase log is what almost any shop can export, so the customer analytics take one rather
than a whole `Dataset`; `purchases_from_dataset` turns the bundled sample data into one.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.core.dataset import Dataset


class Purchase(BaseModel):
    """One purchase by one customer on one day."""

    model_config = ConfigDict(frozen=True)
    customer_id: str
    purchase_date: date
    amount_cents: int = Field(default=0, ge=0)


def purchases_from_dataset(dataset: Dataset, as_of: date | None = None) -> list[Purchase]:
    """The data set's orders up to as_of (default: the data's date) as a purchase log."""
    as_of = dataset.as_of if as_of is None else as_of
    return [
        Purchase(
            customer_id=order.customer_id,
            purchase_date=order.order_date,
            amount_cents=order.amount_cents,
        )
        for order in dataset.orders
        if order.order_date <= as_of
    ]
