"""Request rate limits per caller on the HTTP functions (429 with Retry-After).

Two limits, each a moving window of one minute (the `limits` library's moving-window
strategy), configured in `Settings.http_rate_limits` (requests a minute; 0 switches one off):

    address     every request, by the caller's address (the first X-Forwarded-For hop that
                Cloud Run's front end sets, else the socket's peer), before any other check,
                so a flood is turned away before it costs a signature check or a store read
    principal   authenticated calls, by who the credential names (a status token's name, the
                run API's token, a tracking key's source), after authentication

The counts are kept in each instance's memory: Cloud Run instances do not share them, so the
effective limit is the configured one times the number of instances (max_instances in the
topology bounds that). Limits that must hold across instances, such as the tracking API's
daily quotas, are counted in Firestore instead (shared/tracking/keys.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from functools import cache

from limits import RateLimitItemPerMinute, storage, strategies

from shared.core.errors import TooManyRequestsError


class CallerLimits:
    """Moving one-minute windows per (kind, caller) in this process."""

    def __init__(self, per_minute: Mapping[str, int]) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._limits = {
            kind: RateLimitItemPerMinute(amount) for kind, amount in per_minute.items() if amount
        }

    def check(self, kind: str, caller: str) -> None:
        """Count one request of `caller`; TooManyRequestsError (429) when over its limit."""
        limit = self._limits.get(kind)
        if limit is None or self._limiter.hit(limit, kind, caller):
            return
        reset_at, _ = self._limiter.get_window_stats(limit, kind, caller)
        wait = max(1, math.ceil(reset_at - time.time()))
        raise TooManyRequestsError(
            f"more than {limit.amount} requests a minute from this {kind}; retry in {wait} s",
            wait,
        )


def caller_address(forwarded_for: str | None, remote_addr: str | None) -> str:
    """The client's address: Cloud Run's front end puts it first in X-Forwarded-For."""
    if forwarded_for:
        first = forwarded_for.split(",", 1)[0].strip()
        if first:
            return first
    return remote_addr or "unknown"


@cache
def caller_limits(per_minute: tuple[tuple[str, int], ...]) -> CallerLimits:
    """The process's limiter for one configuration (one per function process)."""
    return CallerLimits(dict(per_minute))
