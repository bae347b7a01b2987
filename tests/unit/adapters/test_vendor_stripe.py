"""The Stripe adapter against recorded API responses, the network swapped at the transport."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from shared.adapters.csv_source import CustomerDefaults
from shared.adapters.vendors import (
    HttpPolicy,
    StripeClient,
    StripeDataSource,
    StripeMapping,
    VendorPermanentError,
    VendorRetryableError,
    stripe_dataset,
)
from shared.adapters.vendors.stripe import StripeCharge, StripeSubscription
from shared.core.dataset import Customer, Order, Subscription
from shared.core.errors import PermanentError, RetryableError
from tests.helpers.vendor_replay import Replay, payload

API_KEY = "sk_test_51QxTESTkey0000000000000000"
NO_RETRY = HttpPolicy(max_attempts=1)


def stripe(replay: Replay, policy: HttpPolicy | None = None) -> StripeClient:
    return StripeClient(API_KEY, client=replay.client(), policy=policy, sleep=lambda _: None)


def test_customers_follow_the_cursor_across_pages() -> None:
    replay = Replay(
        httpx.Response(200, json=payload("stripe_customers_page1.json")),
        httpx.Response(200, json=payload("stripe_customers_page2.json")),
    )

    customers = stripe(replay).customers()

    assert [c.id for c in customers] == [
        "cus_QxA1b2C3d4E5f6",
        "cus_QxB7g8H9i0J1k2",
        "cus_QxC3l4M5n6O7p8",
    ]
    first, second = replay.requests
    assert (first.method, first.url.path) == ("GET", "/v1/customers")
    assert first.url.host == "api.stripe.com"
    assert dict(first.url.params) == {"limit": "100"}
    assert dict(second.url.params) == {"limit": "100", "starting_after": "cus_QxB7g8H9i0J1k2"}


def test_every_request_carries_the_secret_key_and_the_pinned_version() -> None:
    replay = Replay(httpx.Response(200, json=payload("stripe_charges.json")))

    stripe(replay).charges()

    (request,) = replay.requests
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Stripe-Version"] == "2025-03-31.basil"


def test_every_request_has_the_policy_timeouts() -> None:
    replay = Replay(httpx.Response(200, json=payload("stripe_charges.json")))
    client = stripe(replay, HttpPolicy(timeout_s=7.0, connect_timeout_s=2.0))

    client.charges()

    timeout = replay.requests[0].extensions["timeout"]
    assert timeout == {"connect": 2.0, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_query_parameters_are_form_encoded_with_repeated_expand() -> None:
    replay = Replay(httpx.Response(200, json=payload("stripe_charges.json")))

    list(
        stripe(replay).list_all(
            "/v1/charges",
            {"customer": "cus_QxA1b2C3d4E5f6"},
            expand=("data.customer", "data.invoice"),
        )
    )

    request = replay.requests[0]
    assert request.url.params.get_list("expand[]") == ["data.customer", "data.invoice"]
    assert b"expand%5B%5D=data.customer&expand%5B%5D=data.invoice" in request.url.query
    assert request.url.params["customer"] == "cus_QxA1b2C3d4E5f6"


def test_subscriptions_include_canceled_ones() -> None:
    replay = Replay(httpx.Response(200, json=payload("stripe_subscriptions.json")))

    subscriptions = stripe(replay).subscriptions()

    assert replay.requests[0].url.params["status"] == "all"
    assert {s.status for s in subscriptions} == {"active", "canceled"}


def test_429_with_retry_after_is_retryable_and_carries_the_delay() -> None:
    replay = Replay(
        httpx.Response(429, json=payload("stripe_error_429.json"), headers={"Retry-After": "7"})
    )

    with pytest.raises(VendorRetryableError) as caught:
        stripe(replay, NO_RETRY).customers()

    error = caught.value
    assert isinstance(error, RetryableError)
    assert (error.vendor, error.status, error.retry_after_s) == ("stripe", 429, 7.0)
    assert "Request rate limit exceeded" in str(error)


def test_400_is_permanent_with_stripes_message() -> None:
    replay = Replay(httpx.Response(400, json=payload("stripe_error_400.json")))

    with pytest.raises(VendorPermanentError) as caught:
        stripe(replay).customers()  # the default policy retries, but not this

    error = caught.value
    assert isinstance(error, PermanentError)
    assert error.status == 400
    assert str(error) == (
        "stripe: HTTP 400: Received unknown parameter: expand[0] (parameter_unknown)"
    )
    assert len(replay.requests) == 1


def test_stripe_should_retry_overrides_the_status_code() -> None:
    replay = Replay(
        httpx.Response(
            409,
            json=payload("stripe_error_409_lock_timeout.json"),
            headers={"Stripe-Should-Retry": "true"},
        )
    )

    with pytest.raises(VendorRetryableError, match=r"\(lock_timeout\)") as caught:
        stripe(replay, NO_RETRY).charges()

    assert caught.value.retry_after_s is None


def test_load_maps_customers_charges_and_subscriptions_into_a_dataset() -> None:
    replay = Replay(
        httpx.Response(200, json=payload("stripe_customers_page1.json")),
        httpx.Response(200, json=payload("stripe_customers_page2.json")),
        httpx.Response(200, json=payload("stripe_charges.json")),
        httpx.Response(200, json=payload("stripe_subscriptions.json")),
    )
    source = StripeDataSource(
        stripe(replay),
        mapping=StripeMapping(plan_by_price={"plus_monthly": "plus", "premium_yearly": "premium"}),
    )

    dataset = source.load()

    assert [r.url.path for r in replay.requests] == [
        "/v1/customers",
        "/v1/customers",
        "/v1/charges",
        "/v1/subscriptions",
    ]
    assert dataset.as_of == date(2026, 11, 10)  # the newest charge
    assert dataset.customers == (
        Customer(
            customer_id="cus_QxA1b2C3d4E5f6",
            name="Anna Weber",
            email="anna.weber@example.com",
            country="DE",
            signup_date=date(2025, 3, 14),
            acquisition_channel="referral",  # from metadata
            plan="plus",  # from the subscription's price lookup key
        ),
        Customer(
            customer_id="cus_QxB7g8H9i0J1k2",
            name="Jules Martin",
            email="jules.martin@example.org",
            country="FR",
            signup_date=date(2025, 11, 2),
            acquisition_channel="search",  # no metadata: the default
            plan="basic",  # an unmapped price and no metadata: the default
        ),
        Customer(
            customer_id="cus_QxC3l4M5n6O7p8",
            name="Sem de Vries",
            email="sem.devries@example.net",
            country="ZZ",  # no address
            signup_date=date(2026, 2, 20),
            acquisition_channel="social",
            plan="premium",
        ),
        Customer(  # charged, but no longer in the customer list
            customer_id="cus_QxGone00000001",
            name="",
            email="",
            country="ZZ",
            signup_date=date(2026, 10, 5),
            acquisition_channel="search",
            plan="basic",
        ),
    )
    # Failed, fully refunded and guest charges are not orders; partial refunds are netted.
    assert dataset.orders == (
        Order(
            order_id="ch_3QxF4fLkdIwHu7ix0fFfFfF6",
            customer_id="cus_QxGone00000001",
            order_date=date(2026, 10, 5),
            amount_cents=5500,
        ),
        Order(
            order_id="ch_3QxJ8bLkdIwHu7ix0bBbBbB2",
            customer_id="cus_QxA1b2C3d4E5f6",
            order_date=date(2026, 11, 3),
            amount_cents=3599,
        ),
        Order(
            order_id="ch_3QxK9aLkdIwHu7ix0aAaAaA1",
            customer_id="cus_QxC3l4M5n6O7p8",
            order_date=date(2026, 11, 10),
            amount_cents=9900,
        ),
    )
    assert dataset.subscriptions == (
        Subscription(
            subscription_id="sub_1QxSa1LkdIwHu7ixPlsMo03",
            customer_id="cus_QxA1b2C3d4E5f6",
            plan="plus_monthly",
            status="active",
            start_date=date(2025, 3, 14),
            monthly_amount_cents=2900,
        ),
        Subscription(
            subscription_id="sub_1QxSb7LkdIwHu7ixBasWk02",
            customer_id="cus_QxB7g8H9i0J1k2",
            plan="Basic weekly",  # no lookup key: the nickname
            status="canceled",
            start_date=date(2025, 11, 2),
            end_date=date(2026, 6, 30),
            monthly_amount_cents=6067,  # 2 x 7.00 a week x 52 / 12
        ),
        Subscription(
            subscription_id="sub_1QxSc3LkdIwHu7ixPrEmYr01",
            customer_id="cus_QxC3l4M5n6O7p8",
            plan="premium_yearly",
            status="active",
            start_date=date(2026, 2, 20),
            monthly_amount_cents=4990,  # 598.80 a year / 12
        ),
    )


def test_non_eur_money_is_an_error_unless_skipped() -> None:
    charge = payload("stripe_charges.json")["data"][0] | {"currency": "usd"}
    subscription = payload("stripe_subscriptions.json")["data"][0] | {"currency": "usd"}
    charges = [StripeCharge.model_validate(charge)]
    subscriptions = [StripeSubscription.model_validate(subscription)]

    with pytest.raises(VendorPermanentError, match="ch_3QxK9aLkdIwHu7ix0aAaAaA1 is in USD"):
        stripe_dataset([], charges, [])
    with pytest.raises(VendorPermanentError, match="sub_1QxSc3LkdIwHu7ixPrEmYr01 is in USD"):
        stripe_dataset([], [], subscriptions)
    skipped = stripe_dataset(
        [],
        charges,
        subscriptions,
        mapping=StripeMapping(other_currencies="skip"),
        as_of=date(2026, 11, 16),
    )
    assert (skipped.orders, skipped.subscriptions, skipped.customers) == ((), (), ())


def test_missing_customers_take_the_configured_defaults() -> None:
    charges = [StripeCharge.model_validate(payload("stripe_charges.json")["data"][5])]
    mapping = StripeMapping(
        defaults=CustomerDefaults(country="IE", acquisition_channel="email", plan="plus")
    )

    dataset = stripe_dataset([], charges, [], mapping=mapping)

    (customer,) = dataset.customers
    assert (customer.country, customer.acquisition_channel, customer.plan) == (
        "IE",
        "email",
        "plus",
    )


def test_a_page_that_is_not_a_list_is_permanent() -> None:
    replay = Replay(httpx.Response(200, json={"object": "customer", "id": "cus_QxA1b2C3d4E5f6"}))

    with pytest.raises(VendorPermanentError, match="unexpected /v1/customers shape"):
        stripe(replay).customers()
