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
    held_off,
    reserve_slot,
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


# TikTok's default: 60 in any minute, 6 of them at once, the rest refilled at 54 a minute.
BURST = 6
T = 60 / 54


def test_sixty_a_minute_lets_a_tenth_through_at_once_then_queues_the_rest() -> None:
    clock = FakeClock()
    tiktok = bucket(clock)

    burst = [tiktok.acquire() for _ in range(BURST)]
    next_two = [tiktok.acquire(), tiktok.acquire()]

    assert burst == [0.0] * BURST
    assert next_two == pytest.approx([T, T])
    assert clock.sleeps == pytest.approx([T, T])


def test_no_sixty_seconds_see_more_than_the_limit_however_they_fall() -> None:
    clock = FakeClock()
    tiktok = bucket(clock)
    sent = []
    for quiet_s in [0.0] * 100 + [45.0] + [0.0] * 100:  # a busy spell, a lull, another
        clock.now += quiet_s
        tiktok.acquire()
        sent.append(clock.now)

    most = max(sum(1 for t in sent if start <= t < start + 60) for start in sent)

    assert 55 <= most <= 60  # the limit is used, never exceeded


def test_tokens_come_back_with_time_up_to_the_burst() -> None:
    clock = FakeClock()
    tiktok = bucket(clock)
    for _ in range(BURST):
        tiktok.acquire()

    clock.now += 3 * T  # three tokens refilled
    waits = [tiktok.acquire() for _ in range(4)]

    assert waits[:3] == pytest.approx([0.0] * 3, abs=1e-9)
    assert waits[3] == pytest.approx(T)

    clock.now += 3600  # an idle hour refills to the burst, not beyond
    assert [tiktok.acquire() for _ in range(BURST)] == [0.0] * BURST
    assert tiktok.acquire() == pytest.approx(T)


def test_callers_queue_behind_each_other() -> None:
    clock = FakeClock(advance=False)  # nobody's sleep has finished yet
    tiktok = bucket(clock)
    for _ in range(BURST):
        tiktok.acquire()

    waits = [tiktok.acquire() for _ in range(5)]

    assert waits == pytest.approx([T, 2 * T, 3 * T, 4 * T, 5 * T])


def test_a_wait_beyond_the_maximum_raises_retryable_and_reserves_nothing() -> None:
    clock = FakeClock(advance=False)
    tiktok = bucket(clock, max_wait_s=3.0)
    for _ in range(BURST + 2):  # the burst free, then waits of T and 2T (2.2 s)
        tiktok.acquire()

    with pytest.raises(OutboundRateLimited) as caught:
        tiktok.acquire()  # 3T = 3.3 s > 3 s

    error = caught.value
    assert isinstance(error, RetryableError)
    assert (error.platform, error.retry_after_s) == ("tiktok", pytest.approx(3 * T))
    assert "tiktok: send limit reached" in str(error)
    clock.now += T  # one queued slot drains: the refused caller's turn has not been taken
    assert tiktok.acquire() == pytest.approx(2 * T)


def test_hold_off_stops_everyone_until_the_vendors_retry_after() -> None:
    clock = FakeClock()
    tiktok = bucket(clock)

    tiktok.hold_off(10.0)

    assert tiktok.acquire() == pytest.approx(10.0)
    assert tiktok.acquire() == pytest.approx(T)  # then the normal pace


def test_a_burst_of_five_leaves_ninety_five_a_minute() -> None:
    clock = FakeClock()
    linkedin = TokenBucket(
        RateLimit(per_minute=100, burst=5), clock=clock, sleep=clock.sleep, name="linkedin"
    )

    waits = [linkedin.acquire() for _ in range(6)]

    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(60 / 95)


def test_a_burst_as_large_as_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="burst 60 must be below per_minute 60"):
        RateLimit(per_minute=60, burst=60)


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
    # 10 free tokens, then one slot every 60/90 s: no slot handed out twice, none skipped.
    interval = 60 / 90
    expected = [0.0] * 10 + [interval * k for k in range(1, callers - 10 + 1)]
    assert sorted(waits) == pytest.approx(expected)
    assert sorted(clock.sleeps) == pytest.approx(expected[10:])


def test_the_limiter_limits_tiktok_and_linkedin_by_default_and_nothing_else() -> None:
    clock = FakeClock(advance=False)
    limiter = OutboundLimiter(clock=clock, sleep=clock.sleep)

    assert limiter.limit_of("tiktok") == RateLimit(per_minute=60)
    assert limiter.limit_of("linkedin") == RateLimit(per_minute=100)
    assert limiter.limit_of("zendesk") is None
    assert [limiter.acquire("zendesk") for _ in range(1000)] == [0.0] * 1000
    for _ in range(BURST):
        limiter.acquire("tiktok")
    assert limiter.acquire("tiktok") == pytest.approx(T)
    assert limiter.acquire("linkedin") == 0.0  # buckets are per platform


def test_limits_are_configurable_per_platform() -> None:
    clock = FakeClock(advance=False)
    limiter = OutboundLimiter.from_per_minute(
        {"tiktok": 20, "zendesk": 120}, clock=clock, sleep=clock.sleep
    )

    assert limiter.limit_of("tiktok") == RateLimit(per_minute=20)
    assert limiter.limit_of("linkedin") == RateLimit(per_minute=100)
    assert limiter.limit_of("zendesk") == RateLimit(per_minute=120)
    for _ in range(2):  # 20 a minute: 2 at once, then 18 a minute
        limiter.acquire("tiktok")
    assert limiter.acquire("tiktok") == pytest.approx(60 / 18)


# --- the shared ledger's arithmetic (GCRA) -------------------------------------------


def test_reserve_slot_lets_the_burst_through_then_one_per_interval() -> None:
    limit = RateLimit(per_minute=63, burst=3)  # 60 a minute after the burst
    tat: float | None = None
    waits = []
    for _ in range(6):
        wait, tat = reserve_slot(tat, 100.0, limit, max_wait_s=60)
        waits.append(wait)

    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]


def test_reserve_slot_refills_with_time_and_refuses_past_the_maximum_wait() -> None:
    limit = RateLimit(per_minute=62, burst=2)  # 60 a minute after the burst
    _, tat = reserve_slot(None, 0.0, limit, max_wait_s=5)
    _, tat = reserve_slot(tat, 0.0, limit, max_wait_s=5)

    later, _ = reserve_slot(tat, 10.0, limit, max_wait_s=5)  # rested: free again
    with pytest.raises(OutboundRateLimited) as refused:
        reserve_slot(tat + 10, 0.0, limit, max_wait_s=5, platform="tiktok")

    assert later == 0.0
    assert refused.value.platform == "tiktok" and refused.value.retry_after_s == 11.0


def test_held_off_makes_the_next_caller_wait_the_vendors_retry_after() -> None:
    limit = RateLimit(per_minute=65, burst=5)
    tat = held_off(None, 50.0, limit, seconds=7)

    wait, _ = reserve_slot(tat, 50.0, limit, max_wait_s=60)

    assert wait == 7.0


def test_a_limiter_with_shared_slots_reserves_there_and_sleeps_the_wait() -> None:
    class Ledger:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str]] = []

        def reserve(self, platform: str, limit: RateLimit, max_wait_s: float) -> float:
            self.calls.append(("reserve", platform))
            return 2.5

        def hold_off(self, platform: str, limit: RateLimit, seconds: float) -> None:
            self.calls.append(("hold_off", platform))

    ledger, slept = Ledger(), []
    limiter = OutboundLimiter(shared=ledger, sleep=slept.append)

    assert limiter.acquire("tiktok") == 2.5 and limiter.acquire("zendesk") == 0.0
    limiter.hold_off("linkedin", 30)
    assert ledger.calls == [("reserve", "tiktok"), ("hold_off", "linkedin")] and slept == [2.5]
