"""Outbound rate limits per platform: token buckets that queue callers, never drop them.

TikTok and LinkedIn throttle apps that post too fast (and may suspend them), so a burst of
inbound messages must not turn into a burst of replies. Each limited platform has a bucket of
`burst` tokens (default: one minute's worth) refilled continuously at `per_minute / 60` per
second. Defaults: TikTok 60/min, LinkedIn 100/min; other platforms are not limited unless
configured (`OutboundLimiter.from_per_minute`).

How one caller is served (`TokenBucket.acquire`):
- a token is free: it is taken at once;
- none is free: the caller reserves the next one due (the bucket goes into debt) and sleeps
  until then, outside the lock, so callers are served in the order they reserved and nobody
  spins or starves;
- the wait would be longer than `max_wait_s`: nothing is reserved and `OutboundRateLimited`
  (a RetryableError) is raised with the wait as `retry_after_s`. The entry point lets it
  propagate, Pub/Sub redelivers the message later with backoff, and the reply is sent then.
  A message is never dropped for being over the limit.
- `hold_off(seconds)`: when the vendor itself answers 429 with Retry-After, the bucket is
  emptied so that no caller in this process sends before that time.

Scope, stated plainly: the buckets live in one process. Cloud Functions runs up to
`max_instances` processes, each with its own buckets, so the vendor may see up to
max_instances x the limit. To keep a limit global, divide it by the function's
max_instances (60/min with max_instances=3 -> 20/min each), or replace this with a shared
bucket (a Firestore document updated in a transaction per token would cost one write per
message, and one document sustains about one write per second - exactly TikTok's 60/min, so
it would need sharding). This module is deliberately Firestore-free and pure: a clock and a
sleep are injected, so tests need no real time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from shared.core.errors import RetryableError

DEFAULT_MAX_WAIT_S = 30.0


class RateLimit(BaseModel):
    """How fast one platform may be sent to."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    per_minute: float = Field(gt=0, description="sustained sends per minute")
    burst: int | None = Field(
        default=None, ge=1, description="sends allowed at once; default one minute's worth"
    )

    @property
    def capacity(self) -> int:
        """The bucket's size: the burst, else the per-minute rate (at least 1)."""
        return self.burst if self.burst is not None else max(1, int(self.per_minute))


DEFAULT_LIMITS: Mapping[str, RateLimit] = {
    "tiktok": RateLimit(per_minute=60),
    "linkedin": RateLimit(per_minute=100),
}


class OutboundRateLimited(RetryableError):
    """The platform's outbound limit is reached for longer than a caller may wait."""

    def __init__(self, platform: str, retry_after_s: float) -> None:
        super().__init__(
            f"{platform or 'outbound'}: send limit reached, next slot in {retry_after_s:.1f}s"
        )
        self.platform = platform
        self.retry_after_s = retry_after_s


class TokenBucket:
    """A thread-safe token bucket whose callers wait in line for their token."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        name: str = "",
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0, got {max_wait_s}")
        self.limit = limit
        self.name = name
        self.max_wait_s = max_wait_s
        self._rate_per_s = limit.per_minute / 60.0
        self._capacity = float(limit.capacity)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self._capacity
        self._updated = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def hold_off(self, seconds: float) -> None:
        """Let no caller through for `seconds` (the vendor asked us to back off)."""
        if seconds <= 0:
            return
        with self._lock:
            self._refill()
            # The next caller waits (1 - tokens) / rate, so this makes it at least `seconds`.
            self._tokens = min(self._tokens, 1.0 - seconds * self._rate_per_s)

    def _reserve(self) -> float:
        with self._lock:
            self._refill()
            wait = max(0.0, (1.0 - self._tokens) / self._rate_per_s)
            if wait > self.max_wait_s:
                raise OutboundRateLimited(self.name, wait)
            self._tokens -= 1.0
            return wait

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate_per_s)
        self._updated = now


class OutboundLimiter:
    """One bucket per limited platform; unlimited platforms pass straight through."""

    def __init__(
        self,
        limits: Mapping[str, RateLimit] = DEFAULT_LIMITS,
        *,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._buckets = {
            platform: TokenBucket(
                limit, name=platform, max_wait_s=max_wait_s, clock=clock, sleep=sleep
            )
            for platform, limit in limits.items()
        }

    @classmethod
    def from_per_minute(
        cls,
        overrides: Mapping[str, float],
        *,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> OutboundLimiter:
        """The default limits with some platforms' per-minute rates replaced or added."""
        limits = dict(DEFAULT_LIMITS)
        limits.update({p: RateLimit(per_minute=rate) for p, rate in overrides.items()})
        return cls(limits, max_wait_s=max_wait_s, clock=clock, sleep=sleep)

    def limit_of(self, platform: str) -> RateLimit | None:
        """The platform's limit, or None if it is not limited."""
        bucket = self._buckets.get(platform)
        return bucket.limit if bucket else None

    def acquire(self, platform: str) -> float:
        """Wait for the platform's next send slot; the seconds waited (0 if unlimited)."""
        bucket = self._buckets.get(platform)
        return bucket.acquire() if bucket else 0.0

    def hold_off(self, platform: str, seconds: float) -> None:
        """Stop sending to the platform for `seconds` (no-op if it is not limited)."""
        bucket = self._buckets.get(platform)
        if bucket:
            bucket.hold_off(seconds)
