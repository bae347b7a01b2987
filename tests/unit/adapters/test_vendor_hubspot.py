"""The HubSpot CRM v3 adapter against recorded API responses."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from shared.adapters.vendors import (
    HttpPolicy,
    HubSpotClient,
    HubSpotDataSource,
    HubSpotObject,
    VendorPermanentError,
    VendorRetryableError,
)
from shared.adapters.vendors.hubspot import order_from_deal
from shared.core.dataset import Customer, Order
from tests.helpers.vendor_replay import Replay, payload

TOKEN = "pat-eu1-00000000-1111-2222-3333-444444444444"


def hubspot(replay: Replay, policy: HttpPolicy | None = None) -> HubSpotClient:
    return HubSpotClient(TOKEN, client=replay.client(), policy=policy, sleep=lambda _: None)


def test_contacts_follow_paging_next_after_across_pages() -> None:
    replay = Replay(
        httpx.Response(200, json=payload("hubspot_contacts_page1.json")),
        httpx.Response(200, json=payload("hubspot_contacts_page2.json")),
    )

    contacts = hubspot(replay).contacts()

    assert [c.id for c in contacts] == ["151", "201", "251"]
    first, second = replay.requests
    assert (first.method, first.url.host, first.url.path) == (
        "GET",
        "api.hubapi.com",
        "/crm/v3/objects/contacts",
    )
    properties = "email,firstname,lastname,country,createdate,hs_analytics_source"
    assert dict(first.url.params) == {"limit": "100", "properties": properties}
    assert dict(second.url.params) == {"limit": "100", "properties": properties, "after": "202"}


def test_requests_carry_the_private_app_token() -> None:
    replay = Replay(httpx.Response(200, json=payload("hubspot_contacts_page2.json")))

    hubspot(replay).contacts()

    assert replay.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_deals_are_read_with_their_contact_associations() -> None:
    replay = Replay(httpx.Response(200, json=payload("hubspot_deals.json")))

    deals = hubspot(replay).deals()

    assert replay.requests[0].url.path == "/crm/v3/objects/deals"
    assert replay.requests[0].url.params["associations"] == "contacts"
    assert deals[0].associations["contacts"].results[0].id == "151"
    assert deals[0].prop("amount") == "1250.50"


def test_load_maps_contacts_and_won_deals_into_a_dataset() -> None:
    replay = Replay(
        httpx.Response(200, json=payload("hubspot_contacts_page1.json")),
        httpx.Response(200, json=payload("hubspot_contacts_page2.json")),
        httpx.Response(200, json=payload("hubspot_deals.json")),
    )

    dataset = HubSpotDataSource(hubspot(replay)).load()

    assert dataset.customers == (
        Customer(
            customer_id="151",
            name="Lena Koch",
            email="lena.koch@example.com",
            country="DE",
            signup_date=date(2026, 1, 15),
            acquisition_channel="search",  # PAID_SEARCH
            plan="basic",
        ),
        Customer(
            customer_id="201",
            name="Hugo Moreau",
            email="hugo.moreau@example.org",
            country="ZZ",  # "France" is free text, not a code
            signup_date=date(2026, 3, 2),
            acquisition_channel="social",  # SOCIAL_MEDIA
            plan="basic",
        ),
        Customer(
            customer_id="251",
            name="Aoife",
            email="aoife.walsh@example.net",
            country="ZZ",
            signup_date=date(2026, 6, 21),
            acquisition_channel="search",  # DIRECT_TRAFFIC: the default
            plan="basic",
        ),
        Customer(  # a won deal's contact that is gone
            customer_id="777",
            name="",
            email="",
            country="ZZ",
            signup_date=date(2026, 11, 5),
            acquisition_channel="search",
            plan="basic",
        ),
    )
    # The open deal and the deal without a contact are not orders.
    assert dataset.orders == (
        Order(
            order_id="9001", customer_id="151", order_date=date(2026, 10, 14), amount_cents=125050
        ),
        Order(order_id="9004", customer_id="777", order_date=date(2026, 11, 5), amount_cents=9990),
    )
    assert dataset.as_of == date(2026, 11, 5)


def test_a_deal_in_another_currency_is_an_error_unless_skipped() -> None:
    deal = payload("hubspot_deals.json")["results"][0]
    deal["properties"]["deal_currency_code"] = "GBP"
    record = HubSpotObject.model_validate(deal)

    with pytest.raises(VendorPermanentError, match="deal 9001 is in GBP"):
        order_from_deal(record)
    assert order_from_deal(record, other_currencies="skip") is None


def test_429_with_retry_after_is_retryable_and_carries_the_delay() -> None:
    replay = Replay(
        httpx.Response(429, json=payload("hubspot_error_429.json"), headers={"Retry-After": "10"})
    )

    with pytest.raises(VendorRetryableError) as caught:
        hubspot(replay, HttpPolicy(max_attempts=1)).contacts()

    assert (caught.value.status, caught.value.retry_after_s) == (429, 10.0)
    assert "You have reached your secondly limit." in str(caught.value)


def test_400_is_permanent_with_hubspots_message() -> None:
    replay = Replay(httpx.Response(400, json=payload("hubspot_error_400.json")))

    with pytest.raises(VendorPermanentError) as caught:
        hubspot(replay).contacts()

    assert str(caught.value) == (
        "hubspot: HTTP 400: Property values were not valid: limit must be less than or equal"
        " to 100 (VALIDATION_ERROR)"
    )
    assert len(replay.requests) == 1


def test_a_page_without_results_is_permanent() -> None:
    replay = Replay(httpx.Response(200, json={"paging": {}}))

    with pytest.raises(VendorPermanentError, match="unexpected list page shape"):
        hubspot(replay).contacts()
