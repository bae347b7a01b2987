"""The vendor circuit breaker: a vendor that keeps failing is left alone for a while, with a
clear reason, and tried again afterwards; refusals of a bad request never open it."""

from __future__ import annotations

import httpx
import pytest

from shared.adapters.vendors import HttpPolicy, VendorPermanentError, VendorRetryableError
from shared.http.breaker import VendorUnavailableError
from shared.http.client import VendorHttp
from tests.helpers.waiting import wait_for

POLICY = HttpPolicy(max_attempts=1, breaker_failures=3, breaker_reset_s=30)


class Vendor:
    """The vendor at the transport boundary: answers with `status` and counts the calls."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.status >= 400:
            return httpx.Response(self.status, json={"error": {"message": f"down {self.status}"}})
        return httpx.Response(200, json={"ok": True})


def _client(vendor: Vendor, policy: HttpPolicy = POLICY) -> VendorHttp:
    return VendorHttp(
        "acme",
        "https://api.acme.test",
        auth_headers=lambda: {},
        error_message=lambda body: body["error"]["message"],
        client=httpx.Client(transport=httpx.MockTransport(vendor)),
        policy=policy,
        sleep=lambda seconds: None,
    )


def test_three_failed_calls_open_the_circuit_and_the_fourth_is_not_sent() -> None:
    vendor = Vendor(503)
    http = _client(vendor)

    for _ in range(3):
        with pytest.raises(VendorRetryableError) as failed:
            http.request_json("GET", "/things")
        assert not isinstance(failed.value, VendorUnavailableError)
    with pytest.raises(VendorUnavailableError) as refused:
        http.request_json("GET", "/things")

    assert vendor.calls == 3
    message = str(refused.value)
    assert message.startswith("acme: circuit open after 3 failures in a row")
    assert "down 503" in message and message.endswith("not called")
    assert refused.value.retry_after_s is not None and 1 <= refused.value.retry_after_s <= 30


def test_refusals_of_a_bad_request_never_open_the_circuit() -> None:
    vendor = Vendor(400)
    http = _client(vendor)

    for _ in range(6):
        with pytest.raises(VendorPermanentError):
            http.request_json("GET", "/things")

    assert vendor.calls == 6


def test_after_the_reset_time_one_trial_call_goes_out_and_success_closes_it() -> None:
    vendor = Vendor(500)
    http = _client(vendor, POLICY.model_copy(update={"breaker_reset_s": 0.2}))
    for _ in range(3):
        with pytest.raises(VendorRetryableError):
            http.request_json("GET", "/things")
    vendor.status = 200

    def recovered() -> dict[str, bool] | None:
        try:
            return dict(http.request_json("GET", "/things"))
        except VendorUnavailableError:
            return None

    answer = wait_for(recovered, timeout_s=5, what="the circuit to let a trial call through")
    again = http.request_json("GET", "/things")

    assert answer == again == {"ok": True}
    assert vendor.calls == 5  # three failures, the trial, the next call; none while open
