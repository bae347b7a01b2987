"""Properties of cron schedules in the Cloud Scheduler emulator, driven through the official
CloudSchedulerClient: any schedule and time zone is either refused with INVALID_ARGUMENT saying
what is wrong, or accepted with a next run after now that fires once when its time comes and
moves the next run on; no schedule crashes the server or its firing loop."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

import pytest
from google.api_core.exceptions import InvalidArgument
from google.cloud.scheduler_v1 import CloudSchedulerClient, types
from hypothesis import given
from hypothesis import strategies as st

from emulators.scheduler import SchedulerEmulator
from shared.adapters.scheduler_client import scheduler_client
from tests.helpers.fuzzing import fuzz_settings

pytestmark = pytest.mark.integration

PARENT = "projects/fuzz-project/locations/europe-west1"
TOPIC = "projects/fuzz-project/topics/ticks"
WAIT_SECONDS = 10.0


class Clock:
    """The emulator's clock, set by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Scheduler:
    emulator: SchedulerEmulator
    client: CloudSchedulerClient
    clock: Clock
    published: queue.Queue[str]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[Scheduler]:
    """One emulator on a test clock whose own loop stays idle: the test fires jobs itself."""
    published: queue.Queue[str] = queue.Queue()
    clock = Clock()
    emulator = SchedulerEmulator(
        publish=lambda topic, data, attributes: published.put(attributes["job"]),
        clock=clock,
        tick_seconds=3600.0,
    )
    emulator.start()
    client = scheduler_client(emulator.address)
    yield Scheduler(emulator, client, clock, published)
    client.transport.close()
    emulator.stop()


def mostly(
    valid: st.SearchStrategy[str], hostile: st.SearchStrategy[str], odds: int = 10
) -> st.SearchStrategy[str]:
    """`valid` most of the time, `hostile` one time in `odds`."""
    return st.integers(0, odds - 1).flatmap(lambda n: hostile if n == 0 else valid)


ZONES = sorted(available_timezones())
zones = mostly(
    st.sampled_from(["UTC", "utc", "", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"])
    | st.sampled_from(ZONES),
    st.sampled_from(["Mars/Olympus", "../../etc/passwd", "Europe/", "\x00", "A" * 300])
    | st.text(max_size=20),
)


def cron_field(low: int, high: int, words: list[str]) -> st.SearchStrategy[str]:
    """One field of a unix-cron line: lists of values, ranges and steps within [low, high],
    and now and then a value out of range, a croniter extension or anything at all."""
    value = st.integers(low, high).map(str)
    if words:
        value |= st.sampled_from(words)
    out_of_range = st.integers(-1, 99).map(str)
    atom = st.one_of(
        st.just("*"),
        value,
        st.builds("{}-{}".format, value, value),
        st.builds("*/{}".format, st.integers(1, high).map(str)),
        st.builds("{}-{}/{}".format, value, value, st.integers(1, high).map(str)),
    )
    hostile = st.one_of(
        out_of_range,
        st.builds("*/{}".format, out_of_range),
        st.sampled_from(["L", "W", "?", "H", "1W", "5L", "L-2", "1#6", "7#1", "MON-", ",", "--"]),
        st.text(max_size=5),
    )
    return st.lists(mostly(atom, hostile, odds=12), min_size=1, max_size=3).map(",".join)


MONTHS = ["JAN", "feb", "Mar", "DEC"]
DAYS = ["MON", "sun", "Fri", "SAT"]
schedules = mostly(
    st.tuples(
        cron_field(0, 59, []),
        cron_field(0, 23, []),
        cron_field(1, 31, []),
        cron_field(1, 12, MONTHS),
        cron_field(0, 7, DAYS),
    ).map(" ".join),
    st.one_of(
        st.sampled_from(
            [
                "0 0 30 2 *",
                "0 0 31 4 *",
                "@daily",
                "every 5 minutes",
                "* * * * * *",
                "* * * *",
                "",
            ]
        ),
        st.text(max_size=30),
    ),
    odds=6,
)
# Days around daylight-saving changes as well as any other.
moments = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(
        [datetime(2026, 3, 29, 0, 59), datetime(2026, 10, 25, 0, 59), datetime(2026, 11, 1, 5)]
    ),
).map(lambda moment: moment.replace(tzinfo=UTC))


@fuzz_settings(200)
@given(schedule=schedules, time_zone=zones, now=moments)
def test_any_schedule_is_refused_clearly_or_fires_when_due(
    scheduler: Scheduler, schedule: str, time_zone: str, now: datetime
) -> None:
    scheduler.clock.now = now
    name = f"{PARENT}/jobs/fuzz-{uuid.uuid4().hex[:12]}"
    job = types.Job(
        name=name,
        schedule=schedule,
        time_zone=time_zone,
        pubsub_target=types.PubsubTarget(topic_name=TOPIC, attributes={"job": name}),
    )
    try:
        created = scheduler.client.create_job(parent=PARENT, job=job)
    except InvalidArgument as exc:
        assert "Schedule" in exc.message or "time zone" in exc.message, exc.message
        return
    try:
        first = created.schedule_time
        assert first > now, f"{schedule!r} in {time_zone!r}: next run {first} is not after {now}"

        scheduler.clock.now = first
        assert scheduler.emulator.fire_due_jobs(first) == [name]
        assert scheduler.published.get(timeout=WAIT_SECONDS) == name

        later = scheduler.client.get_job(name=name).schedule_time
        assert later > first, f"{schedule!r} in {time_zone!r}: {later} does not follow {first}"
    finally:
        scheduler.client.delete_job(name=name)


def test_the_generated_schedules_include_accepted_ones(scheduler: Scheduler) -> None:
    """The weekly run's own schedule goes through the same checks and fires."""
    scheduler.clock.now = datetime(2026, 11, 15, 12, tzinfo=UTC)
    name = f"{PARENT}/jobs/weekly-{uuid.uuid4().hex[:8]}"
    job = types.Job(
        name=name,
        schedule="0 8 * * 1",
        time_zone="Europe/Paris",
        pubsub_target=types.PubsubTarget(topic_name=TOPIC, attributes={"job": name}),
    )
    created = scheduler.client.create_job(parent=PARENT, job=job)
    assert created.schedule_time == datetime(2026, 11, 16, 7, tzinfo=UTC) + timedelta(0)
    scheduler.client.delete_job(name=name)
