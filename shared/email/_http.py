"""One HTTP request per send, its answer mapped to sent / not sent / unknown.

A send is not `VendorHttp.request_json`: a provider may answer 202 with no body (SendGrid)
or take a form (Mailgun), and above all a 5xx or a timeout may hide an accepted message, so
repeating it in process could send twice. `post_once` makes one request and maps the answer:

    2xx                                   the response
    429, 408, connect error or timeout    EmailNotAcceptedError (Retry-After kept)
    other 5xx, read timeout, lost link    VendorRetryableError  (may have been sent)
    other 4xx                             VendorPermanentError  (the provider's own words)

A ConnectTimeout is a timeout before any byte left, hence "not accepted"; any later timeout
is "may have been sent".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shared.email._retry import retry_not_accepted
from shared.email.errors import EmailNotAcceptedError
from shared.email.message import parse_mailbox
from shared.http.breaker import through_breaker
from shared.http.client import ErrorMessage, HttpPolicy, VendorHttp, parse_retry_after
from shared.http.errors import VendorPermanentError, VendorRetryableError

_NOT_ACCEPTED_STATUSES = frozenset({408, 429})


def post_once(
    client: httpx.Client,
    vendor: str,
    url: str,
    *,
    headers: Mapping[str, str],
    policy: HttpPolicy,
    error_message: ErrorMessage,
    json: Any = None,
    data: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One POST; the successful response, or the error its failure maps to."""
    try:
        response = client.post(
            url, json=json, data=data, headers=dict(headers), timeout=policy.timeout()
        )
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise EmailNotAcceptedError(vendor, f"could not connect: {error!r}") from error
    except httpx.TimeoutException as error:
        raise VendorRetryableError(vendor, f"timed out, may have been sent: {error!r}") from error
    except httpx.TransportError as error:
        raise VendorRetryableError(vendor, f"connection lost: {error!r}") from error
    if response.is_success:
        return response
    status = response.status_code
    message = f"HTTP {status}: {error_text(response, error_message)}"
    retry_after_s = parse_retry_after(response.headers.get("Retry-After"))
    if status in _NOT_ACCEPTED_STATUSES:
        raise EmailNotAcceptedError(vendor, message, status=status, retry_after_s=retry_after_s)
    if status >= 500:
        raise VendorRetryableError(vendor, message, status=status, retry_after_s=retry_after_s)
    raise VendorPermanentError(vendor, message, status=status)


def error_text(response: httpx.Response, error_message: ErrorMessage) -> str:
    """The provider's explanation of a failed response, else its text or reason phrase."""
    try:
        message = error_message(response.json())
    except (ValueError, TypeError, KeyError, AttributeError):
        message = None
    if message:
        return message
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase


class HttpEmailSender:
    """What the HTTP providers share: the client (theirs or borrowed), one POST per send
    retried only while surely not accepted, and a VendorHttp for their lookup APIs."""

    provider = "http"

    def __init__(
        self,
        sender: str,
        *,
        base_url: str,
        lookup_base_url: str,
        headers: Mapping[str, str],
        error_message: ErrorMessage,
        client: httpx.Client | None,
        policy: HttpPolicy | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parse_mailbox(sender)
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        self._headers = dict(headers)
        self._error_message = error_message
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=self.policy.timeout())
        self.http = VendorHttp(
            self.provider,
            lookup_base_url.rstrip("/"),
            auth_headers=lambda: self._headers,
            error_message=error_message,
            client=self._client,
            policy=self.policy,
            sleep=sleep,
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def _post(self, path: str, **body: Any) -> httpx.Response:
        """POST to base_url + path, repeated only while the provider surely took nothing."""

        def attempt() -> httpx.Response:
            return post_once(
                self._client,
                self.provider,
                f"{self.base_url}{path}",
                headers=self._headers,
                policy=self.policy,
                error_message=self._error_message,
                **body,
            )

        return through_breaker(
            self.provider,
            self.policy.breaker_failures,
            self.policy.breaker_reset_s,
            lambda: retry_not_accepted(attempt, self.policy, self._sleep),
        )
