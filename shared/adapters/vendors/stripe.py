"""Stripe: customers, charges and subscriptions over the REST API, and a data source on them.

API: https://api.stripe.com/v1, secret key as `Authorization: Bearer sk_...`, query
parameters form-encoded (`expand[]=...` repeated), every list endpoint paginated by cursor:
a page is `{"object": "list", "data": [...], "has_more": bool, "url": "/v1/..."}` and the
next page is requested with `starting_after=<id of the last object>`. Requests pin
`Stripe-Version` so the response shapes below do not drift with the account's default.

How Stripe objects become data set rows (`StripeMapping` holds the knobs):
- customer -> `Customer`: country from `address.country` (else the default), signup on
  `created` (UTC), acquisition channel from `metadata[channel_metadata_key]`, plan from the
  first price of the customer's newest subscription whose price `plan_by_price` maps (by
  lookup key or price id), else `metadata[plan_metadata_key]`, else the default.
- charge -> `Order`: only `succeeded` charges of a known customer; the amount is
  `amount_captured - amount_refunded` (already in cents) and fully refunded or uncaptured
  charges are left out. Guest charges (no customer) are left out: nobody to attribute them to.
- subscription -> `Subscription`: every status (`status=all`, as the default list leaves out
  canceled ones); plan is the first item's price lookup key, nickname or id; monthly amount is
  the sum over items of unit amount x quantity, normalised to a month (a year is 12 months, a
  week 52/12 of a month, a day 365/12). Prices without a unit amount (tiered) count 0.
- The data set holds EUR only: a non-EUR charge or subscription raises VendorPermanentError
  unless `other_currencies="skip"`.
- Charges or subscriptions of customers that no longer exist get minimal customer rows, as
  for CSV imports (`shared.adapters.csv_source.missing_customers`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.adapters.csv_source import CustomerDefaults, missing_customers
from shared.core.dataset import (
    AcquisitionChannel,
    Customer,
    Dataset,
    Order,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError

STRIPE_API = "https://api.stripe.com"
STRIPE_API_VERSION = "2025-03-31.basil"
VENDOR = "stripe"

Model = TypeVar("Model", bound=BaseModel)

# Months per billing interval, to normalise a price to a month.
_MONTHS_PER_INTERVAL = {
    "day": Decimal(12) / Decimal(365),
    "week": Decimal(12) / Decimal(52),
    "month": Decimal(1),
    "year": Decimal(12),
}


# --- the parts of Stripe's objects this adapter reads (others are ignored) -----------------


class _StripeObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class StripeAddress(_StripeObject):
    """A postal address."""

    country: str | None = None


class StripeCustomer(_StripeObject):
    """A Stripe customer (`cus_...`)."""

    id: str
    created: int
    email: str | None = None
    name: str | None = None
    address: StripeAddress | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class StripeCharge(_StripeObject):
    """A Stripe charge (`ch_...`)."""

    id: str
    amount: int
    amount_captured: int = 0
    amount_refunded: int = 0
    created: int
    currency: str
    customer: str | StripeCustomer | None = None  # an object when expanded
    status: str  # "succeeded", "pending" or "failed"


class StripeRecurring(_StripeObject):
    """How often a recurring price bills."""

    interval: Literal["day", "week", "month", "year"]
    interval_count: int = 1


class StripePrice(_StripeObject):
    """A Stripe price (`price_...`)."""

    id: str
    currency: str
    unit_amount: int | None = None
    lookup_key: str | None = None
    nickname: str | None = None
    recurring: StripeRecurring | None = None


class StripeSubscriptionItem(_StripeObject):
    """One price on a subscription (`si_...`)."""

    id: str
    price: StripePrice
    quantity: int | None = 1


class StripeSubscriptionItems(_StripeObject):
    """The list of a subscription's items."""

    data: list[StripeSubscriptionItem]


class StripeSubscription(_StripeObject):
    """A Stripe subscription (`sub_...`)."""

    id: str
    customer: str | StripeCustomer
    status: SubscriptionStatus
    start_date: int
    created: int
    ended_at: int | None = None
    currency: str
    items: StripeSubscriptionItems


class _StripeList(_StripeObject):
    object: Literal["list"]
    data: list[dict[str, Any]]
    has_more: bool
    url: str


# --- the client ------------------------------------------------------------------------------


class StripeClient:
    """Stripe's list endpoints, every page followed."""

    def __init__(
        self,
        api_key: str,
        *,
        client: httpx.Client | None = None,
        base_url: str = STRIPE_API,
        api_version: str | None = STRIPE_API_VERSION,
        policy: HttpPolicy | None = None,
        page_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError(f"page_size must be 1-100, got {page_size}")
        headers = {"Authorization": f"Bearer {api_key}"}
        if api_version:
            headers["Stripe-Version"] = api_version
        self.page_size = page_size
        self.http = VendorHttp(
            VENDOR,
            base_url,
            auth_headers=lambda: headers,
            error_message=stripe_error_message,
            client=client,
            policy=policy,
            retry_hint=_should_retry_header,
            sleep=sleep,
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self.http.close()

    def list_all(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        expand: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Every object of a list endpoint such as "/v1/charges", following `has_more`."""
        base: list[tuple[str, str]] = [("limit", str(self.page_size)), *(params or {}).items()]
        base += [("expand[]", field) for field in expand]
        cursor: str | None = None
        while True:
            query = base if cursor is None else [*base, ("starting_after", cursor)]
            page = _parse(_StripeList, self.http.request_json("GET", path, params=query), path)
            yield from page.data
            if not page.has_more or not page.data:
                return
            cursor = str(page.data[-1]["id"])

    def customers(self) -> list[StripeCustomer]:
        """Every customer."""
        return [_parse(StripeCustomer, item, "customer") for item in self.list_all("/v1/customers")]

    def charges(self) -> list[StripeCharge]:
        """Every charge, whatever its status."""
        return [_parse(StripeCharge, item, "charge") for item in self.list_all("/v1/charges")]

    def subscriptions(self) -> list[StripeSubscription]:
        """Every subscription, canceled ones included."""
        items = self.list_all("/v1/subscriptions", {"status": "all"})
        return [_parse(StripeSubscription, item, "subscription") for item in items]


def stripe_error_message(body: Any) -> str | None:
    """The message of Stripe's error body `{"error": {"type", "code", "message", ...}}`."""
    error = body["error"]
    message = error.get("message")
    code = error.get("code") or error.get("type")
    return f"{message} ({code})" if message and code else message


def _should_retry_header(response: httpx.Response) -> bool | None:
    # Stripe says explicitly whether a failed request is worth retrying.
    hint = response.headers.get("Stripe-Should-Retry")
    return None if hint is None else hint.strip().lower() == "true"


def _parse(model: type[Model], data: Any, what: str) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise VendorPermanentError(VENDOR, f"unexpected {what} shape: {error}") from error


# --- the data source ---------------------------------------------------------------------


class StripeMapping(BaseModel):
    """How Stripe objects become data set rows where Stripe has no matching field."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    defaults: CustomerDefaults = Field(default_factory=CustomerDefaults)
    channel_metadata_key: str = "acquisition_channel"
    plan_metadata_key: str = "plan"
    plan_by_price: dict[str, Plan] = Field(
        default_factory=dict, description="price lookup key or price id -> plan"
    )
    other_currencies: Literal["error", "skip"] = "error"


class StripeDataSource:
    """The DataSource port on a Stripe account: customers, charges and subscriptions."""

    def __init__(
        self,
        client: StripeClient,
        *,
        as_of: date | None = None,
        mapping: StripeMapping | None = None,
    ) -> None:
        self.client = client
        self.as_of = as_of
        self.mapping = mapping or StripeMapping()

    def load(self) -> Dataset:
        """Everything the account holds now, as a data set (as_of: given, else latest date)."""
        return stripe_dataset(
            self.client.customers(),
            self.client.charges(),
            self.client.subscriptions(),
            mapping=self.mapping,
            as_of=self.as_of,
        )


def stripe_dataset(
    customers: Sequence[StripeCustomer],
    charges: Sequence[StripeCharge],
    subscriptions: Sequence[StripeSubscription],
    *,
    mapping: StripeMapping | None = None,
    as_of: date | None = None,
) -> Dataset:
    """Stripe objects as a data set (see the module docstring for each rule)."""
    mapping = mapping or StripeMapping()
    orders = sorted(
        (order for charge in charges if (order := order_from_charge(charge, mapping))),
        key=lambda order: (order.order_date, order.order_id),
    )
    subscription_rows = sorted(
        (row for sub in subscriptions if (row := subscription_from_stripe(sub, mapping))),
        key=lambda row: (row.start_date, row.subscription_id),
    )
    plan_of_customer: dict[str, Plan] = {}
    for sub in sorted(subscriptions, key=lambda sub: sub.start_date):  # the newest wins
        if sub.items.data and (plan := _plan_of_price(sub.items.data[0].price, mapping)):
            plan_of_customer[_id_of(sub.customer)] = plan
    customer_rows = [
        customer_from_stripe(customer, plan_of_customer.get(customer.id), mapping)
        for customer in customers
    ]
    customer_rows += missing_customers(
        {row.customer_id for row in customer_rows},
        [(o.customer_id, o.order_date) for o in orders]
        + [(s.customer_id, s.start_date) for s in subscription_rows],
        mapping.defaults,
    )
    customer_rows.sort(key=lambda row: (row.signup_date, row.customer_id))
    days = [
        *(row.signup_date for row in customer_rows),
        *(row.order_date for row in orders),
        *(row.end_date or row.start_date for row in subscription_rows),
    ]
    dataset_as_of = as_of or max(days, default=None)
    if dataset_as_of is None:
        raise VendorPermanentError(VENDOR, "the account holds no data to take as_of from")
    return Dataset(
        as_of=dataset_as_of,
        customers=tuple(customer_rows),
        orders=tuple(orders),
        subscriptions=tuple(subscription_rows),
    )


def customer_from_stripe(
    customer: StripeCustomer, plan: Plan | None, mapping: StripeMapping
) -> Customer:
    """A Stripe customer as a data set customer; `plan` from their subscription, if known."""
    defaults = mapping.defaults
    country = (customer.address.country if customer.address else None) or ""
    channel = customer.metadata.get(mapping.channel_metadata_key, "").lower()
    metadata_plan = customer.metadata.get(mapping.plan_metadata_key, "").lower()
    return Customer(
        customer_id=customer.id,
        name=customer.name or "",
        email=customer.email or "",
        country=country.upper() if _is_country(country) else defaults.country,
        signup_date=_day(customer.created),
        acquisition_channel=_as_channel(channel) or defaults.acquisition_channel,
        plan=plan or _as_plan(metadata_plan) or defaults.plan,
    )


def order_from_charge(charge: StripeCharge, mapping: StripeMapping) -> Order | None:
    """The order a charge stands for; None for failed, refunded, guest or skipped charges."""
    if charge.status != "succeeded" or charge.customer is None:
        return None
    if not _is_eur(charge.currency, charge.id, mapping):
        return None
    net_cents = charge.amount_captured - charge.amount_refunded
    if net_cents <= 0:
        return None
    return Order(
        order_id=charge.id,
        customer_id=_id_of(charge.customer),
        order_date=_day(charge.created),
        amount_cents=net_cents,
    )


def subscription_from_stripe(
    subscription: StripeSubscription, mapping: StripeMapping
) -> Subscription | None:
    """A Stripe subscription as a data set subscription; None if skipped for its currency."""
    if not _is_eur(subscription.currency, subscription.id, mapping):
        return None
    monthly = Decimal(0)
    for item in subscription.items.data:
        price = item.price
        if price.unit_amount is None or price.recurring is None:
            continue
        months = _MONTHS_PER_INTERVAL[price.recurring.interval] * price.recurring.interval_count
        monthly += Decimal(price.unit_amount * (item.quantity or 0)) / months
    first_price = subscription.items.data[0].price if subscription.items.data else None
    plan = ""
    if first_price is not None:
        plan = first_price.lookup_key or first_price.nickname or first_price.id
    return Subscription(
        subscription_id=subscription.id,
        customer_id=_id_of(subscription.customer),
        plan=plan,
        status=subscription.status,
        start_date=_day(subscription.start_date),
        end_date=_day(subscription.ended_at) if subscription.ended_at is not None else None,
        monthly_amount_cents=int(monthly.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
    )


def _is_eur(currency: str, object_id: str, mapping: StripeMapping) -> bool:
    if currency.lower() == "eur":
        return True
    if mapping.other_currencies == "skip":
        return False
    raise VendorPermanentError(
        VENDOR,
        f"{object_id} is in {currency.upper()}; the data set holds EUR only "
        '(StripeMapping(other_currencies="skip") leaves such objects out)',
    )


def _plan_of_price(price: StripePrice, mapping: StripeMapping) -> Plan | None:
    by_key = mapping.plan_by_price.get(price.lookup_key) if price.lookup_key else None
    return by_key or mapping.plan_by_price.get(price.id)


def _id_of(customer: str | StripeCustomer) -> str:
    return customer if isinstance(customer, str) else customer.id


def _day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def _is_country(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha()


def _as_channel(value: str) -> AcquisitionChannel | None:
    try:
        return _CHANNEL.validate_python(value)
    except ValidationError:
        return None


def _as_plan(value: str) -> Plan | None:
    try:
        return _PLAN.validate_python(value)
    except ValidationError:
        return None


_CHANNEL: TypeAdapter[AcquisitionChannel] = TypeAdapter(AcquisitionChannel)
_PLAN: TypeAdapter[Plan] = TypeAdapter(Plan)
