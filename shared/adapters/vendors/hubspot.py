"""HubSpot CRM v3: contacts and deals over the REST API, and a data source on them.

API: https://api.hubapi.com, a private app's access token as `Authorization: Bearer ...`.
`GET /crm/v3/objects/{contacts|deals}?limit=100&properties=a,b&associations=contacts`
answers `{"results": [{"id", "properties", "createdAt", "updatedAt", "archived", ...}],
"paging": {"next": {"after": "...", "link": "..."}}}`; the next page is requested with
`after=<paging.next.after>` and the last page has no `paging.next`. Only the properties
asked for come back, as strings (or null).

How HubSpot records become data set rows:
- contact -> `Customer`: name from firstname/lastname, signup on `createdate` (else
  `createdAt`), acquisition channel from `hs_analytics_source` (HubSpot's original traffic
  source: organic or paid search -> search, social media or paid social -> social, email
  marketing -> email, referrals -> referral, anything else -> the default), country only if
  the `country` property holds a two-letter code (it is free text), plan the default.
- deal -> `Order`: deals in a won stage (`closedwon` unless told otherwise) with an amount,
  a close date and an associated contact; the amount (a decimal string) becomes cents. Deals
  in another currency than EUR (`deal_currency_code`) raise VendorPermanentError unless
  `other_currencies="skip"`. Deals without a contact are left out: nobody to attribute them to.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.adapters.csv_source import CustomerDefaults, missing_customers, parse_cents
from shared.core.dataset import AcquisitionChannel, Customer, Dataset, Order
from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError

HUBSPOT_API = "https://api.hubapi.com"
VENDOR = "hubspot"

CONTACT_PROPERTIES = (
    "email",
    "firstname",
    "lastname",
    "country",
    "createdate",
    "hs_analytics_source",
)
DEAL_PROPERTIES = ("dealname", "amount", "closedate", "dealstage", "pipeline", "deal_currency_code")

_CHANNEL_OF_SOURCE: dict[str, AcquisitionChannel] = {
    "ORGANIC_SEARCH": "search",
    "PAID_SEARCH": "search",
    "SOCIAL_MEDIA": "social",
    "PAID_SOCIAL": "social",
    "EMAIL_MARKETING": "email",
    "REFERRALS": "referral",
}


class HubSpotAssociation(BaseModel):
    """A link from one CRM record to another."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    type: str = ""


class HubSpotAssociations(BaseModel):
    """The records of one type a record is linked to (first page)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    results: list[HubSpotAssociation] = Field(default_factory=list)


class HubSpotObject(BaseModel):
    """One CRM record (contact, deal, ...) with the properties asked for."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    id: str
    properties: dict[str, str | None] = Field(default_factory=dict)
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    archived: bool = False
    associations: dict[str, HubSpotAssociations] = Field(default_factory=dict)

    def prop(self, name: str) -> str:
        """A property's value, "" when absent or null."""
        return (self.properties.get(name) or "").strip()


class _PagingNext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    after: str


class _Paging(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    next: _PagingNext | None = None


class _Page(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    results: list[HubSpotObject]
    paging: _Paging | None = None


class HubSpotClient:
    """HubSpot's CRM object list endpoints, every page followed."""

    def __init__(
        self,
        access_token: str,
        *,
        client: httpx.Client | None = None,
        base_url: str = HUBSPOT_API,
        policy: HttpPolicy | None = None,
        page_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError(f"page_size must be 1-100, got {page_size}")
        headers = {"Authorization": f"Bearer {access_token}"}
        self.page_size = page_size
        self.http = VendorHttp(
            VENDOR,
            base_url,
            auth_headers=lambda: headers,
            error_message=hubspot_error_message,
            client=client,
            policy=policy,
            sleep=sleep,
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self.http.close()

    def list_objects(
        self,
        object_type: str,
        properties: Sequence[str],
        *,
        associations: Sequence[str] = (),
    ) -> Iterator[HubSpotObject]:
        """Every record of a type ("contacts", "deals", ...), with the given properties."""
        base = [("limit", str(self.page_size)), ("properties", ",".join(properties))]
        if associations:
            base.append(("associations", ",".join(associations)))
        path = f"/crm/v3/objects/{object_type}"
        after: str | None = None
        while True:
            query = base if after is None else [*base, ("after", after)]
            page = _parse_page(self.http.request_json("GET", path, params=query))
            yield from page.results
            if page.paging is None or page.paging.next is None:
                return
            after = page.paging.next.after

    def contacts(self, properties: Sequence[str] = CONTACT_PROPERTIES) -> list[HubSpotObject]:
        """Every contact."""
        return list(self.list_objects("contacts", properties))

    def deals(self, properties: Sequence[str] = DEAL_PROPERTIES) -> list[HubSpotObject]:
        """Every deal, with the contacts it is associated with."""
        return list(self.list_objects("deals", properties, associations=("contacts",)))


def hubspot_error_message(body: Any) -> str | None:
    """The message of HubSpot's error body `{"status": "error", "message", "category", ...}`."""
    message = body.get("message")
    category = body.get("category")
    return f"{message} ({category})" if message and category else message


def _parse_page(data: Any) -> _Page:
    try:
        return _Page.model_validate(data)
    except ValidationError as error:
        raise VendorPermanentError(VENDOR, f"unexpected list page shape: {error}") from error


class HubSpotDataSource:
    """The DataSource port on a HubSpot portal: contacts as customers, won deals as orders."""

    def __init__(
        self,
        client: HubSpotClient,
        *,
        as_of: date | None = None,
        defaults: CustomerDefaults | None = None,
        won_stages: Sequence[str] = ("closedwon",),
        other_currencies: Literal["error", "skip"] = "error",
    ) -> None:
        self.client = client
        self.as_of = as_of
        self.defaults = defaults or CustomerDefaults()
        self.won_stages = tuple(won_stages)
        self.other_currencies = other_currencies

    def load(self) -> Dataset:
        """The portal's contacts and won deals now (as_of: given, else the latest date)."""
        customers = [customer_from_contact(c, self.defaults) for c in self.client.contacts()]
        orders = sorted(
            (
                order
                for deal in self.client.deals()
                if (order := order_from_deal(deal, self.won_stages, self.other_currencies))
            ),
            key=lambda order: (order.order_date, order.order_id),
        )
        customers += missing_customers(
            {c.customer_id for c in customers},
            [(o.customer_id, o.order_date) for o in orders],
            self.defaults,
        )
        days = [c.signup_date for c in customers] + [o.order_date for o in orders]
        as_of = self.as_of or max(days, default=None)
        if as_of is None:
            raise VendorPermanentError(VENDOR, "the portal holds no data to take as_of from")
        return Dataset(as_of=as_of, customers=tuple(customers), orders=tuple(orders))


def customer_from_contact(contact: HubSpotObject, defaults: CustomerDefaults) -> Customer:
    """A HubSpot contact as a data set customer."""
    country = contact.prop("country")
    created = contact.prop("createdate")
    name = " ".join(part for part in (contact.prop("firstname"), contact.prop("lastname")) if part)
    return Customer(
        customer_id=contact.id,
        name=name,
        email=contact.prop("email"),
        country=country.upper() if _is_country(country) else defaults.country,
        signup_date=_day(created, contact.id) if created else contact.created_at.date(),
        acquisition_channel=_CHANNEL_OF_SOURCE.get(
            contact.prop("hs_analytics_source"), defaults.acquisition_channel
        ),
        plan=defaults.plan,
    )


def order_from_deal(
    deal: HubSpotObject,
    won_stages: Sequence[str] = ("closedwon",),
    other_currencies: Literal["error", "skip"] = "error",
) -> Order | None:
    """The order a won deal stands for; None for open or lost deals and deals without one."""
    amount, closed = deal.prop("amount"), deal.prop("closedate")
    contacts = deal.associations.get("contacts")
    if deal.prop("dealstage") not in won_stages or not amount or not closed or not contacts:
        return None
    if not contacts.results:
        return None
    currency = deal.prop("deal_currency_code").upper() or "EUR"
    if currency != "EUR":
        if other_currencies == "skip":
            return None
        raise VendorPermanentError(
            VENDOR, f"deal {deal.id} is in {currency}; the data set holds EUR only"
        )
    try:
        cents = parse_cents(amount)
    except ValueError as error:
        raise VendorPermanentError(VENDOR, f"deal {deal.id} amount: {error}") from error
    return Order(
        order_id=deal.id,
        customer_id=contacts.results[0].id,
        order_date=_day(closed, deal.id),
        amount_cents=cents,
    )


def _day(timestamp: str, record_id: str) -> date:
    try:
        return datetime.fromisoformat(timestamp).date()
    except ValueError as error:
        raise VendorPermanentError(
            VENDOR, f"record {record_id}: {timestamp!r} is not an ISO date-time"
        ) from error


def _is_country(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha()
