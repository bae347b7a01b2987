"""JSON over HTTPS for the vendor adapters: timeouts, error mapping and bounded retries.

Every vendor call goes through `VendorHttp.request_json`, which
- sends the vendor's auth headers, fetched per attempt so a token provider can refresh;
- applies the policy's timeouts to every request, also on an injected `httpx.Client`;
- turns 408, 429, 5xx, timeouts and connection failures into `VendorRetryableError` (with
  the Retry-After delay when the vendor sent one) and other 4xx into `VendorPermanentError`
  carrying the vendor's own error message;
- retries retryable failures a few times in process (tenacity), waiting Retry-After when
  given and backing off exponentially otherwise. A Retry-After longer than the policy allows
  is not slept on: the error propagates at once so the caller's redelivery waits instead;
- goes through the vendor's circuit breaker (breaker.py): after `breaker_failures` failed
  calls in a row the vendor is not called for `breaker_reset_s`, and the caller gets a
  VendorUnavailableError saying so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from shared.core.tracing import span
from shared.http.breaker import through_breaker
from shared.http.errors import VendorPermanentError, VendorRetryableError

QueryParams = Sequence[tuple[str, str]]  # pairs, so a key may repeat (expand[])
# Pulls the vendor's message out of a decoded error body; None when it has none.
ErrorMessage = Callable[[Any], str | None]
# Overrides the status-code rule for one response: True retry, False don't, None no opinion.
RetryHint = Callable[[httpx.Response], bool | None]

_RETRYABLE_STATUSES = frozenset({408, 429})


class HttpPolicy(BaseModel):
    """Timeouts and retries of one vendor client."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    timeout_s: float = Field(default=20.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, description="1 means no in-process retry")
    backoff_s: float = Field(default=0.5, ge=0, description="first wait without Retry-After")
    max_retry_wait_s: float = Field(default=30.0, ge=0, description="longest wait slept on")
    breaker_failures: int = Field(default=5, ge=1, description="failed calls that open it")
    breaker_reset_s: float = Field(default=30.0, gt=0, description="open this long, then try")

    def timeout(self) -> httpx.Timeout:
        """The policy as an httpx timeout."""
        return httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s)


class VendorHttp:
    """One vendor's HTTP client: base URL, auth, error mapping and retries."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        auth_headers: Callable[[], Mapping[str, str]],
        error_message: ErrorMessage,
        client: httpx.Client | None = None,
        policy: HttpPolicy | None = None,
        retry_hint: RetryHint | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        self._auth_headers = auth_headers
        self._error_message = error_message
        self._retry_hint = retry_hint
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=self.policy.timeout())

    def close(self) -> None:
        """Close the underlying client if this object created it."""
        if self._owns_client:
            self._client.close()

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
    ) -> Any:
        """The decoded JSON body of a successful call, after retrying what may be retried."""
        return self._call(method, path, params, json, decode=True)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A successful response as it came (for vendors that answer with headers or an
        empty body, such as LinkedIn's 201 with the new id in `x-restli-id`)."""
        response: httpx.Response = self._call(
            method, path, params, json, decode=False, headers=headers
        )
        return response

    def _call(
        self,
        method: str,
        path: str,
        params: QueryParams | None,
        json: Any,
        *,
        decode: bool,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            retry=retry_if_exception(self._worth_waiting_for),
            wait=self._wait_s,
            sleep=self._sleep,
            reraise=True,
        )
        # One client span per call, retries included; no trace header goes to the vendor.
        with span(
            f"{self.vendor} {method}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": method,
                "server.address": httpx.URL(self.base_url).host,
                "controlroom.vendor": self.vendor,
            },
        ) as current:
            result = through_breaker(
                self.vendor,
                self.policy.breaker_failures,
                self.policy.breaker_reset_s,
                lambda: retrying(self._attempt, method, path, params, json, decode, headers),
            )
            current.set_attribute("controlroom.attempts", retrying.statistics["attempt_number"])
            return result

    def _worth_waiting_for(self, error: BaseException) -> bool:
        if not isinstance(error, VendorRetryableError):
            return False
        return error.retry_after_s is None or error.retry_after_s <= self.policy.max_retry_wait_s

    def _wait_s(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, VendorRetryableError) and error.retry_after_s is not None:
            return error.retry_after_s
        return float(self.policy.backoff_s * 2 ** (state.attempt_number - 1))

    def _attempt(
        self,
        method: str,
        path: str,
        params: QueryParams | None,
        json: Any,
        decode: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        try:
            response = self._client.request(
                method,
                f"{self.base_url}{path}",
                params=tuple(params) if params else None,
                json=json,
                headers={**self._auth_headers(), **(headers or {})},
                timeout=self.policy.timeout(),
            )
        except httpx.TimeoutException as error:
            raise VendorRetryableError(self.vendor, f"timed out: {error!r}") from error
        except httpx.TransportError as error:
            raise VendorRetryableError(self.vendor, f"connection failed: {error!r}") from error
        trace.get_current_span().set_attribute("http.response.status_code", response.status_code)
        return self._decode(response) if decode else self._checked(response)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if not response.is_success:
            self._decode(response)  # raises the mapped error
        return response

    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        if response.is_success:
            try:
                return response.json()
            except ValueError as error:
                raise VendorPermanentError(
                    self.vendor, f"HTTP {status} with a body that is not JSON", status=status
                ) from error
        message = f"HTTP {status}: {self._message(response)}"
        retryable = status in _RETRYABLE_STATUSES or status >= 500
        hint = self._retry_hint(response) if self._retry_hint else None
        if hint is not None:
            retryable = hint
        if retryable:
            raise VendorRetryableError(
                self.vendor,
                message,
                status=status,
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
            )
        raise VendorPermanentError(self.vendor, message, status=status)

    def _message(self, response: httpx.Response) -> str:
        try:
            message = self._error_message(response.json())
        except (ValueError, TypeError, KeyError, AttributeError):
            message = None
        if message:
            return message
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, from delta-seconds or an HTTP date; None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after_hint(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` (OpenAI's, in milliseconds) or `Retry-After`."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            seconds = float(millis) / 1000
        except ValueError:
            pass
        else:
            if math.isfinite(seconds):
                return max(0.0, seconds)
    return parse_retry_after(headers.get("retry-after"), now)
