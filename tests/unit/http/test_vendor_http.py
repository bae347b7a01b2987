"""What every vendor adapter shares: retries, Retry-After, timeouts, error mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared.adapters.vendors import (
    HttpPolicy,
    VendorPermanentError,
    VendorRetryableError,
    parse_retry_after,
)
from shared.http.client import VendorHttp
from tests.helpers.vendor_replay import Replay


def vendor_http(
    replay: Replay, sleeps: list[float], policy: HttpPolicy | None = None
) -> VendorHttp:
    return VendorHttp(
        "acme",
        "https://api.acme.test",
        auth_headers=lambda: {"Authorization": "Bearer t0ken"},
        error_message=lambda body: body["error"]["message"],
        client=httpx.Client(transport=httpx.MockTransport(replay)),
        policy=policy,
        sleep=sleeps.append,
    )


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def failure(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": f"status {status}"}}, headers=headers)


def test_a_retryable_failure_is_retried_after_the_vendors_retry_after() -> None:
    replay = Replay(failure(429, **{"Retry-After": "2"}), ok())
    sleeps: list[float] = []

    body = vendor_http(replay, sleeps).request_json("GET", "/things")

    assert body == {"ok": True}
    assert sleeps == [2.0]
    assert len(replay.requests) == 2


def test_without_retry_after_the_wait_backs_off_until_attempts_run_out() -> None:
    replay = Replay(failure(503), failure(502), failure(500))
    sleeps: list[float] = []

    with pytest.raises(VendorRetryableError) as caught:
        vendor_http(replay, sleeps, HttpPolicy(max_attempts=3, backoff_s=0.5)).request_json(
            "GET", "/things"
        )

    assert sleeps == [0.5, 1.0]
    assert (caught.value.status, caught.value.retry_after_s) == (500, None)
    assert str(caught.value) == "acme: HTTP 500: status 500"


def test_a_retry_after_longer_than_the_policy_allows_is_left_to_the_caller() -> None:
    replay = Replay(failure(429, **{"Retry-After": "120"}), ok())
    sleeps: list[float] = []

    with pytest.raises(VendorRetryableError) as caught:
        vendor_http(replay, sleeps, HttpPolicy(max_retry_wait_s=30)).request_json("GET", "/x")

    assert caught.value.retry_after_s == 120.0
    assert sleeps == []
    assert len(replay.requests) == 1


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
    ],
)
def test_timeouts_and_connection_failures_are_retryable(error: Exception) -> None:
    replay = Replay(error)

    with pytest.raises(VendorRetryableError) as caught:
        vendor_http(replay, [], HttpPolicy(max_attempts=1)).request_json("GET", "/x")

    assert caught.value.status is None
    assert caught.value.__cause__ is error


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_are_permanent_and_not_retried(status: int) -> None:
    replay = Replay(failure(status))

    with pytest.raises(VendorPermanentError) as caught:
        vendor_http(replay, []).request_json("GET", "/x")

    assert caught.value.status == status
    assert caught.value.http_status == 502
    assert len(replay.requests) == 1


def test_an_error_body_without_the_vendor_shape_still_explains_itself() -> None:
    replay = Replay(httpx.Response(403, text="<html>Forbidden by proxy</html>"))

    with pytest.raises(VendorPermanentError, match=r"HTTP 403: <html>Forbidden by proxy</html>"):
        vendor_http(replay, []).request_json("GET", "/x")


def test_a_success_that_is_not_json_is_permanent() -> None:
    replay = Replay(httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(VendorPermanentError, match="not JSON"):
        vendor_http(replay, []).request_json("GET", "/x")


def test_auth_headers_are_fetched_for_every_attempt() -> None:
    tokens = iter(["first", "second"])
    replay = Replay(failure(503), ok())
    http = VendorHttp(
        "acme",
        "https://api.acme.test/",
        auth_headers=lambda: {"Authorization": f"Bearer {next(tokens)}"},
        error_message=lambda body: None,
        client=httpx.Client(transport=httpx.MockTransport(replay)),
        sleep=lambda _: None,
    )

    http.request_json("GET", "/x")

    assert [r.headers["Authorization"] for r in replay.requests] == [
        "Bearer first",
        "Bearer second",
    ]
    assert str(replay.requests[0].url) == "https://api.acme.test/x"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # already past
        ("soon", None),
        ("inf", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    now = datetime(2026, 10, 21, 7, 27, 30, tzinfo=UTC)

    assert parse_retry_after(value, now=now) == seconds
