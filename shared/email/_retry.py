"""Retrying a send only while the provider surely did not take the message.

`retry_not_accepted` repeats a whole send on EmailNotAcceptedError (HTTP 429/408, an SMTP
4xx reply, a refused connection), waiting the provider's Retry-After when it gave one, and
not at all when that is longer than the policy's longest wait, or backing off exponentially.
Every other error propagates at once: it may hide an accepted message, so only the caller's
redelivery (which asks `find_sent` first) may try again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from shared.email.errors import EmailNotAcceptedError
from shared.http.client import HttpPolicy

T = TypeVar("T")


def retry_not_accepted(
    attempt: Callable[[], T],
    policy: HttpPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`attempt()`, repeated while it raises EmailNotAcceptedError, at most as the policy says."""

    def worth_waiting_for(error: BaseException) -> bool:
        if not isinstance(error, EmailNotAcceptedError):
            return False
        return error.retry_after_s is None or error.retry_after_s <= policy.max_retry_wait_s

    def wait_s(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, EmailNotAcceptedError) and error.retry_after_s is not None:
            return error.retry_after_s
        return float(policy.backoff_s * 2 ** (state.attempt_number - 1))

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        retry=retry_if_exception(worth_waiting_for),
        wait=wait_s,
        sleep=sleep,
        reraise=True,
    )
    return retrying(attempt)
