"""Outbound rate limits per platform: token buckets that queue callers, never drop them.

TikTok and LinkedIn throttle apps that post too fast (and may suspend them), so a burst of
inbound messages must not turn into a burst of replies. Each limited platform has a bucket of
`burst` tokens (default: a tenth of a minute's worth) refilled continuously at what the burst
leaves of the limit, `(per_minute - burst) / 60` per second: so no 60 seconds, however they
fall, see more than `per_minute` sends (a bucket of a full minute refilled at the full rate
would let twice the limit through in the minute after a quiet one). Defaults: TikTok
60/min, LinkedIn 100/min; other platforms are not limited unless configured
(`OutboundLimiter.from_per_minute`).

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

Scope: a `TokenBucket` lives in one process, and Cloud Functions runs up to `max_instances`
processes. Where the limit must hold across them (the vendor counts per app, not per
process), the limiter is given a `SendSlots` ledger shared by every instance (the Firestore
one: shared/adapters/firestore_send_slots.py): each send reserves its slot there with
`reserve_slot`, the generic cell rate algorithm over one stored instant per platform (the
"theoretical arrival time"), so N instances together stay within `burst` at once and
`per_minute` after, and a caller over the limit waits for its slot (or is redelivered), as
with the local bucket. The local bucket remains for tests and a single process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.core.errors import RetryableError

DEFAULT_MAX_WAIT_S = 30.0


class RateLimit(BaseModel):
    """How fast one platform may be sent to."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    per_minute: float = Field(gt=0, description="most sends in any 60 seconds")
    burst: int | None = Field(
        default=None, ge=1, description="sends allowed at once; default a tenth of a minute's"
    )

    @model_validator(mode="after")
    def _burst_below_the_limit(self) -> RateLimit:
        if self.capacity > 1 and self.capacity >= self.per_minute:
            raise ValueError(
                f"burst {self.capacity} must be below per_minute {self.per_minute:g}: the rest "
                "of the minute refills at what the burst leaves"
            )
        return self

    @property
    def capacity(self) -> int:
        """The bucket's size: the burst, else a tenth of the per-minute limit (at least 1)."""
        return self.burst if self.burst is not None else max(1, int(self.per_minute // 10))

    @property
    def refill_per_minute(self) -> float:
        """The sustained rate: the limit less the burst, so any 60 s stays within the limit
        (a bucket of one spaces sends 60 / per_minute s apart, which is exact already)."""
        if self.capacity == 1:
            return self.per_minute
        return self.per_minute - self.capacity


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


def reserve_slot(
    tat: float | None, now: float, limit: RateLimit, max_wait_s: float, platform: str = ""
) -> tuple[float, float]:
    """(seconds to wait for the next send slot, the new theoretical arrival time).

    GCRA: each send moves the platform's theoretical arrival time `tat` on by one interval
    (60 / per_minute s); a send may go once `tat` is no more than capacity - 1 intervals
    ahead of now. So `capacity` go at once from rest, then one per interval. Over
    `max_wait_s` nothing is reserved and OutboundRateLimited is raised.
    """
    interval = 60.0 / limit.refill_per_minute
    tolerance = (limit.capacity - 1) * interval
    start = now if tat is None else max(tat, now)
    wait = max(0.0, start - tolerance - now)
    if wait > max_wait_s:
        raise OutboundRateLimited(platform, wait)
    return wait, start + interval


def held_off(tat: float | None, now: float, limit: RateLimit, seconds: float) -> float:
    """The theoretical arrival time that lets no send through for `seconds` from now."""
    tolerance = (limit.capacity - 1) * 60.0 / limit.refill_per_minute
    return max(tat or now, now + seconds + tolerance)


class SendSlots(Protocol):
    """Send slots shared by every process that sends to the same platforms."""

    def reserve(self, platform: str, limit: RateLimit, max_wait_s: float) -> float:
        """Reserve the platform's next slot; the seconds until it (OutboundRateLimited over
        `max_wait_s`, nothing reserved)."""
        ...

    def hold_off(self, platform: str, limit: RateLimit, seconds: float) -> None:
        """Let no process send to the platform for `seconds`."""
        ...


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
        self._rate_per_s = limit.refill_per_minute / 60.0
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
    """One bucket per limited platform; unlimited platforms pass straight through.

    With `shared` slots, limited platforms are reserved there (across processes) instead.
    """

    def __init__(
        self,
        limits: Mapping[str, RateLimit] = DEFAULT_LIMITS,
        *,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        shared: SendSlots | None = None,
    ) -> None:
        self._limits = dict(limits)
        self._max_wait_s = max_wait_s
        self._sleep = sleep
        self._shared = shared
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
        shared: SendSlots | None = None,
    ) -> OutboundLimiter:
        """The default limits with some platforms' per-minute rates replaced or added."""
        limits = dict(DEFAULT_LIMITS)
        limits.update({p: RateLimit(per_minute=rate) for p, rate in overrides.items()})
        return cls(limits, max_wait_s=max_wait_s, clock=clock, sleep=sleep, shared=shared)

    def limit_of(self, platform: str) -> RateLimit | None:
        """The platform's limit, or None if it is not limited."""
        bucket = self._buckets.get(platform)
        return bucket.limit if bucket else None

    def acquire(self, platform: str) -> float:
        """Wait for the platform's next send slot; the seconds waited (0 if unlimited)."""
        limit = self._limits.get(platform)
        if limit is not None and self._shared is not None:
            wait = self._shared.reserve(platform, limit, self._max_wait_s)
            if wait > 0:
                self._sleep(wait)
            return wait
        bucket = self._buckets.get(platform)
        return bucket.acquire() if bucket else 0.0

    def hold_off(self, platform: str, seconds: float) -> None:
        """Stop sending to the platform for `seconds` (no-op if it is not limited)."""
        limit = self._limits.get(platform)
        if limit is not None and self._shared is not None:
            self._shared.hold_off(platform, limit, seconds)
            return
        bucket = self._buckets.get(platform)
        if bucket:
            bucket.hold_off(seconds)
