"""Outbound token buckets: queue, then refuse with a retryable error; never drop."""

from __future__ import annotations

import threading

import pytest

from shared.core.errors import RetryableError
from shared.support.ratelimit import (
    OutboundLimiter,
    OutboundRateLimited,
    RateLimit,
    TokenBucket,
)


class FakeClock:
    """Monotonic time that moves only when someone sleeps (if `advance`)."""

    def __init__(self, *, advance: bool = True) -> None:
        self.now = 5000.0
        self.advance = advance
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.advance:
                self.now += seconds


def bucket(clock: FakeClock, max_wait_s: float = 30.0) -> TokenBucket:
    return TokenBucket(
        RateLimit(per_minute=60),
        name="tiktok",
        max_wait_s=max_wait_s,
        clock=clock,
        sleep=clock.sleep,
    )


def test_sixty_a_minute_lets_sixty_through_then_queues_one_a_second() -> None:
    clock = FakeClock()
    tiktok = bucket(clock)

    first_sixty = [tiktok.acquire() for _ in range(60)]
    next_two = [tiktok.acquire(), tiktok.acquire()]

    assert first_sixty == [0.0] * 60
    assert next_two == pytest.approx([1.0, 1.0])
    assert clock.sleeps == pytest.approx([1.0, 1.0])


def test_tokens_come_back_with_time_up_to_the_burst() -> None:
    clock = FakeClock()
    tiktok = bucket(clock)
    for _ in range(60):
        tiktok.acquire()

    clock.now += 30  # half a minute: 30 tokens
    waits = [tiktok.acquire() for _ in range(31)]

    assert waits[:30] == [0.0] * 30
    assert waits[30] == pytest.approx(1.0)

    clock.now += 3600  # an idle hour refills to the burst, not beyond
    assert [tiktok.acquire() for _ in range(60)] == [0.0] * 60
    assert tiktok.acquire() == pytest.approx(1.0)


def test_callers_queue_behind_each_other() -> None:
    clock = FakeClock(advance=False)  # nobody's sleep has finished yet
    tiktok = bucket(clock)
    for _ in range(60):
        tiktok.acquire()

    waits = [tiktok.acquire() for _ in range(5)]

    assert waits == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0])


def test_a_wait_beyond_the_maximum_raises_retryable_and_reserves_nothing() -> None:
    clock = FakeClock(advance=False)
    tiktok = bucket(clock, max_wait_s=3.0)
    for _ in range(63):  # 60 free, then waits of 1, 2 and 3 seconds
        tiktok.acquire()

    with pytest.raises(OutboundRateLimited) as caught:
        tiktok.acquire()

    error = caught.value
    assert isinstance(error, RetryableError)
    assert (error.platform, error.retry_after_s) == ("tiktok", pytest.approx(4.0))
    assert "tiktok: send limit reached" in str(error)
    clock.now += 1.0  # one queued slot drains: the refused caller's turn has not been taken
    assert tiktok.acquire() == pytest.approx(3.0)


def test_hold_off_stops_everyone_until_the_vendors_retry_after() -> None:
    clock = FakeClock()
    tiktok = bucket(clock)

    tiktok.hold_off(10.0)

    assert tiktok.acquire() == pytest.approx(10.0)
    assert tiktok.acquire() == pytest.approx(1.0)  # then the normal pace


def test_a_burst_smaller_than_the_rate() -> None:
    clock = FakeClock()
    linkedin = TokenBucket(
        RateLimit(per_minute=100, burst=5), clock=clock, sleep=clock.sleep, name="linkedin"
    )

    waits = [linkedin.acquire() for _ in range(6)]

    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(0.6)


def test_concurrent_callers_each_get_their_own_slot() -> None:
    clock = FakeClock(advance=False)
    linkedin = TokenBucket(
        RateLimit(per_minute=100),
        name="linkedin",
        max_wait_s=3600,
        clock=clock,
        sleep=clock.sleep,
    )
    callers = 250
    start = threading.Barrier(callers)
    waits: list[float] = []
    waits_lock = threading.Lock()

    def call() -> None:
        start.wait(timeout=10)
        waited = linkedin.acquire()
        with waits_lock:
            waits.append(waited)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert not any(thread.is_alive() for thread in threads)
    # 100 free tokens, then one slot every 0.6 s: no slot handed out twice, none skipped.
    expected = [0.0] * 100 + [0.6 * k for k in range(1, callers - 100 + 1)]
    assert sorted(waits) == pytest.approx(expected)
    assert sorted(clock.sleeps) == pytest.approx(expected[100:])


def test_the_limiter_limits_tiktok_and_linkedin_by_default_and_nothing_else() -> None:
    clock = FakeClock(advance=False)
    limiter = OutboundLimiter(clock=clock, sleep=clock.sleep)

    assert limiter.limit_of("tiktok") == RateLimit(per_minute=60)
    assert limiter.limit_of("linkedin") == RateLimit(per_minute=100)
    assert limiter.limit_of("zendesk") is None
    assert [limiter.acquire("zendesk") for _ in range(1000)] == [0.0] * 1000
    for _ in range(60):
        limiter.acquire("tiktok")
    assert limiter.acquire("tiktok") == pytest.approx(1.0)
    assert limiter.acquire("linkedin") == 0.0  # buckets are per platform


def test_limits_are_configurable_per_platform() -> None:
    clock = FakeClock(advance=False)
    limiter = OutboundLimiter.from_per_minute(
        {"tiktok": 20, "zendesk": 120}, clock=clock, sleep=clock.sleep
    )

    assert limiter.limit_of("tiktok") == RateLimit(per_minute=20)
    assert limiter.limit_of("linkedin") == RateLimit(per_minute=100)
    assert limiter.limit_of("zendesk") == RateLimit(per_minute=120)
    for _ in range(20):
        limiter.acquire("tiktok")
    assert limiter.acquire("tiktok") == pytest.approx(3.0)
