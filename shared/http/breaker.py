"""Circuit breakers for the vendor clients: stop calling a vendor that keeps failing.

One breaker per vendor and process (pybreaker, in memory; Cloud Run instances each keep
their own). `VendorHttp.request_json` runs every call through its vendor's breaker:

    closed     calls go out; a call that fails after its in-process retries (5xx, 408, 429,
               timeout, connection error) counts one failure, a success resets the count.
               4xx refusals (VendorPermanentError) are the request's fault, not the vendor's
               health, and do not count.
    open       after `breaker_failures` failures in a row: calls fail at once with
               VendorUnavailableError ("<vendor>: circuit open after N failures in a row,
               last: ...; not called"), retryable with a Retry-After of the time left, so the
               message is redelivered later and, if the vendor stays down, dead-lettered with
               that reason on the run's timeline.
    half-open  after `breaker_reset_s`: one trial call; success closes, failure re-opens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pybreaker

from shared.http.errors import VendorPermanentError, VendorRetryableError

T = TypeVar("T")
_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()


class VendorUnavailableError(VendorRetryableError):
    """The vendor's circuit is open: it was not called."""


class _Remember(pybreaker.CircuitBreakerListener):
    """Keeps what the breaker needs to explain itself: the last failure and when it opened."""

    def __init__(self) -> None:
        self.last_failure = ""
        self.opened_at: datetime | None = None

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        self.last_failure = str(exc)

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            self.opened_at = datetime.now(UTC)


def vendor_breaker(vendor: str, failures: int, reset_s: float) -> pybreaker.CircuitBreaker:
    """This process's breaker for `vendor` (created on first use with these settings)."""
    with _lock:
        breaker = _breakers.get(vendor)
        if breaker is None:
            breaker = _breakers[vendor] = pybreaker.CircuitBreaker(
                fail_max=failures,
                reset_timeout=reset_s,
                exclude=[VendorPermanentError],
                name=vendor,
                throw_new_error_on_trip=False,
                listeners=[_Remember()],
            )
        return breaker


def through_breaker(vendor: str, failures: int, reset_s: float, call: Callable[[], T]) -> T:
    """`call()` through the vendor's breaker; VendorUnavailableError when its circuit is open."""
    breaker = vendor_breaker(vendor, failures, reset_s)
    try:
        return breaker.call(call)
    except pybreaker.CircuitBreakerError as error:
        raise unavailable(breaker, vendor) from error


def unavailable(breaker: pybreaker.CircuitBreaker, vendor: str) -> VendorUnavailableError:
    """The error a call to an open circuit raises, naming why and for how long."""
    memory = _memory(breaker)
    opened = memory.opened_at
    waited = (datetime.now(UTC) - opened).total_seconds() if opened else 0.0
    return VendorUnavailableError(
        vendor,
        f"circuit open after {breaker.fail_max} failures in a row "
        f"(last: {memory.last_failure}); not called",
        retry_after_s=max(1.0, breaker.reset_timeout - waited),
    )


def _memory(breaker: pybreaker.CircuitBreaker) -> _Remember:
    for listener in breaker.listeners:
        if isinstance(listener, _Remember):
            return listener
    raise LookupError(f"breaker {breaker.name} was not made by vendor_breaker")


def reset_breakers() -> None:
    """Forget every breaker (tests start from closed circuits)."""
    with _lock:
        _breakers.clear()
