"""The Cloud Scheduler emulator, driven only through the official CloudSchedulerClient."""

from __future__ import annotations

import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.api_core.exceptions import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from google.cloud.scheduler_v1 import CloudSchedulerClient, types
from google.protobuf import field_mask_pb2
from google.rpc import code_pb2

from emulators.scheduler import SchedulerEmulator
from shared.adapters.scheduler_client import scheduler_client

pytestmark = pytest.mark.integration

PROJECT = "test-project"
PARENT = f"projects/{PROJECT}/locations/europe-west1"
TOPIC = f"projects/{PROJECT}/topics/scheduled-ticks"
# A schedule that never comes round during a test run, for jobs fired only by RunJob.
NEW_YEAR = "0 0 1 1 *"
WAIT_SECONDS = 10.0
MONDAY_MORNING = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)


# Test doubles and fixtures -------------------------------------------------------------------


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class PublishRecorder:
    """The injected publish callable: records messages, or fails with ``error`` when set."""

    def __init__(self) -> None:
        self.messages: queue.Queue[tuple[str, bytes, dict[str, str]]] = queue.Queue()
        self.error: Exception | None = None

    def __call__(self, topic_name: str, data: bytes, attributes: dict[str, str]) -> None:
        if self.error is not None:
            raise self.error
        self.messages.put((topic_name, data, attributes))

    def next_message(self) -> tuple[str, bytes, dict[str, str]]:
        return self.messages.get(timeout=WAIT_SECONDS)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: bytes


@dataclass
class TargetServer:
    """A real HTTP endpoint that records each request and answers with the queued statuses."""

    url: str
    requests: queue.Queue[RecordedRequest] = field(default_factory=queue.Queue)
    statuses: queue.Queue[int] = field(default_factory=queue.Queue)

    def next_request(self) -> RecordedRequest:
        return self.requests.get(timeout=WAIT_SECONDS)

    def answer(self) -> int:
        try:
            return self.statuses.get_nowait()
        except queue.Empty:
            return 200


def _handler_for(target: TargetServer) -> type[BaseHTTPRequestHandler]:
    class RecordingHandler(BaseHTTPRequestHandler):
        def _record_and_answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            target.requests.put(RecordedRequest(self.command, self.path, headers, body))
            self.send_response(target.answer())
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record_and_answer

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output free of access logs."""

    return RecordingHandler


@pytest.fixture
def target_server() -> Iterator[TargetServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    target = TargetServer(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler_for(target)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield target
    server.shutdown()
    server.server_close()
    thread.join(timeout=WAIT_SECONDS)


@dataclass
class Scheduler:
    emulator: SchedulerEmulator
    client: CloudSchedulerClient


@pytest.fixture
def published() -> PublishRecorder:
    return PublishRecorder()


@pytest.fixture
def start_scheduler(published: PublishRecorder) -> Iterator[Callable[..., Scheduler]]:
    """Start emulators (firing loop idle unless asked) with a client each; stop them after."""
    started: list[Scheduler] = []

    def start(
        clock: Callable[[], datetime] | None = None, tick_seconds: float = 3600.0
    ) -> Scheduler:
        emulator = SchedulerEmulator(publish=published, clock=clock, tick_seconds=tick_seconds)
        emulator.start()
        started.append(Scheduler(emulator, scheduler_client(emulator.address)))
        return started[-1]

    yield start
    for scheduler in started:
        scheduler.client.transport.close()
        scheduler.emulator.stop()


@pytest.fixture
def scheduler(start_scheduler: Callable[..., Scheduler]) -> Scheduler:
    return start_scheduler()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_MORNING)


@pytest.fixture
def timed_scheduler(start_scheduler: Callable[..., Scheduler], clock: FakeClock) -> Scheduler:
    """An emulator on the fake clock whose loop stays idle: the test fires jobs itself."""
    return start_scheduler(clock=clock)


# Helpers -------------------------------------------------------------------------------------


def new_job_name(parent: str = PARENT) -> str:
    return f"{parent}/jobs/test-{uuid.uuid4().hex[:12]}"


def pubsub_job(schedule: str = NEW_YEAR, time_zone: str = "UTC", **fields: Any) -> types.Job:
    target = types.PubsubTarget(topic_name=TOPIC, data=b"tick", attributes={"kind": "cron"})
    return types.Job(
        name=new_job_name(),
        schedule=schedule,
        time_zone=time_zone,
        pubsub_target=target,
        **fields,
    )


def http_job(uri: str, schedule: str = NEW_YEAR, **target_fields: Any) -> types.Job:
    return types.Job(
        name=new_job_name(),
        schedule=schedule,
        time_zone="UTC",
        http_target=types.HttpTarget(uri=uri, **target_fields),
    )


def wait_for_job(
    client: CloudSchedulerClient, name: str, accept: Callable[[types.Job], bool]
) -> types.Job:
    """Poll GetJob until ``accept`` holds, failing after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        job = client.get_job(name=name)
        if accept(job):
            return job
        assert time.monotonic() < deadline, f"job never reached the expected state: {job}"
        time.sleep(0.02)


def has_status(job: types.Job) -> bool:
    return "status" in job


# CRUD ----------------------------------------------------------------------------------------


def test_created_job_is_enabled_and_scheduled(timed_scheduler: Scheduler) -> None:
    job = pubsub_job(schedule="*/15 * * * *", description="quarter-hourly tick")

    created = timed_scheduler.client.create_job(parent=PARENT, job=job)

    assert created.name == job.name
    assert created.state == types.Job.State.ENABLED
    assert created.user_update_time == MONDAY_MORNING
    assert created.schedule_time == MONDAY_MORNING + timedelta(minutes=15)
    assert "status" not in created
    assert "last_attempt_time" not in created
    assert timed_scheduler.client.get_job(name=job.name) == created


def test_http_method_defaults_to_post(scheduler: Scheduler) -> None:
    created = scheduler.client.create_job(parent=PARENT, job=http_job("http://127.0.0.1:9/"))

    assert created.http_target.http_method == types.HttpMethod.POST


def test_create_without_a_name_generates_one(scheduler: Scheduler) -> None:
    job = pubsub_job()
    job.name = ""

    created = scheduler.client.create_job(parent=PARENT, job=job)

    assert created.name.startswith(f"{PARENT}/jobs/")
    assert scheduler.client.get_job(name=created.name).name == created.name


def test_list_jobs_pages_through_one_parent(scheduler: Scheduler) -> None:
    names = sorted(
        scheduler.client.create_job(parent=PARENT, job=pubsub_job()).name for _ in range(5)
    )
    elsewhere = f"projects/{PROJECT}/locations/us-central1"
    other_job = pubsub_job()
    other_job.name = new_job_name(elsewhere)
    scheduler.client.create_job(parent=elsewhere, job=other_job)

    pages = list(scheduler.client.list_jobs(request={"parent": PARENT, "page_size": 2}).pages)

    assert [len(page.jobs) for page in pages] == [2, 2, 1]
    assert [job.name for page in pages for job in page.jobs] == names
    assert pages[-1].next_page_token == ""


def test_update_job_changes_only_the_masked_fields(
    timed_scheduler: Scheduler, clock: FakeClock
) -> None:
    client = timed_scheduler.client
    created = client.create_job(parent=PARENT, job=pubsub_job(schedule="0 * * * *"))
    clock.now = MONDAY_MORNING + timedelta(minutes=5)
    change = types.Job(name=created.name, description="hourly", schedule="*/10 * * * *")

    updated = client.update_job(
        job=change, update_mask=field_mask_pb2.FieldMask(paths=["description"])
    )

    assert updated.description == "hourly"
    assert updated.schedule == "0 * * * *"
    assert updated.user_update_time == clock.now
    assert updated.pubsub_target == created.pubsub_target


def test_update_job_reschedules_in_the_new_time_zone(
    timed_scheduler: Scheduler, clock: FakeClock
) -> None:
    client = timed_scheduler.client
    created = client.create_job(parent=PARENT, job=pubsub_job(schedule="0 9 * * *"))
    assert created.schedule_time == datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    change = types.Job(name=created.name, time_zone="Asia/Tokyo")

    updated = client.update_job(
        job=change, update_mask=field_mask_pb2.FieldMask(paths=["time_zone"])
    )

    # 09:00 in Tokyo (UTC+9) is midnight UTC; 07:00 UTC is already past it today.
    assert updated.schedule_time == datetime(2025, 1, 7, 0, 0, tzinfo=UTC)


def test_update_job_replaces_a_nested_field(scheduler: Scheduler) -> None:
    created = scheduler.client.create_job(parent=PARENT, job=pubsub_job())
    change = types.Job(
        name=created.name,
        pubsub_target=types.PubsubTarget(topic_name="ignored", attributes={"kind": "manual"}),
    )
    mask = field_mask_pb2.FieldMask(paths=["pubsub_target.attributes"])

    updated = scheduler.client.update_job(job=change, update_mask=mask)

    assert dict(updated.pubsub_target.attributes) == {"kind": "manual"}
    assert updated.pubsub_target.topic_name == TOPIC
    assert updated.pubsub_target.data == b"tick"


def test_invalid_update_leaves_the_job_unchanged(scheduler: Scheduler) -> None:
    created = scheduler.client.create_job(parent=PARENT, job=pubsub_job())
    change = types.Job(name=created.name, schedule="not a schedule")

    with pytest.raises(InvalidArgument):
        scheduler.client.update_job(
            job=change, update_mask=field_mask_pb2.FieldMask(paths=["schedule"])
        )

    assert scheduler.client.get_job(name=created.name) == created


def test_pause_and_resume(timed_scheduler: Scheduler, clock: FakeClock) -> None:
    client = timed_scheduler.client
    created = client.create_job(parent=PARENT, job=pubsub_job(schedule="*/15 * * * *"))

    paused = client.pause_job(name=created.name)
    assert paused.state == types.Job.State.PAUSED
    assert "schedule_time" not in paused
    with pytest.raises(FailedPrecondition):
        client.pause_job(name=created.name)

    clock.now = MONDAY_MORNING + timedelta(hours=2, minutes=7)
    resumed = client.resume_job(name=created.name)
    assert resumed.state == types.Job.State.ENABLED
    # Runs missed while paused are not caught up: the next one is after the resume.
    assert resumed.schedule_time == MONDAY_MORNING + timedelta(hours=2, minutes=15)
    with pytest.raises(FailedPrecondition):
        client.resume_job(name=created.name)


def test_delete_job(scheduler: Scheduler) -> None:
    created = scheduler.client.create_job(parent=PARENT, job=pubsub_job())

    scheduler.client.delete_job(name=created.name)

    with pytest.raises(NotFound):
        scheduler.client.get_job(name=created.name)
    with pytest.raises(NotFound):
        scheduler.client.delete_job(name=created.name)


# Error codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda client, name: client.get_job(name=name),
        lambda client, name: client.delete_job(name=name),
        lambda client, name: client.pause_job(name=name),
        lambda client, name: client.resume_job(name=name),
        lambda client, name: client.run_job(name=name),
        lambda client, name: client.update_job(
            job=types.Job(name=name, description="x"),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        ),
    ],
    ids=["get", "delete", "pause", "resume", "run", "update"],
)
def test_unknown_job_is_not_found(
    scheduler: Scheduler, call: Callable[[CloudSchedulerClient, str], object]
) -> None:
    with pytest.raises(NotFound):
        call(scheduler.client, new_job_name())


def test_duplicate_create_already_exists(scheduler: Scheduler) -> None:
    job = pubsub_job()
    scheduler.client.create_job(parent=PARENT, job=job)

    with pytest.raises(AlreadyExists):
        scheduler.client.create_job(parent=PARENT, job=job)


def _with(job: types.Job, **changes: Any) -> types.Job:
    for name, value in changes.items():
        setattr(job, name, value)
    return job


@pytest.mark.parametrize(
    "job",
    [
        pytest.param(pubsub_job(schedule="61 * * * *"), id="minute-out-of-range"),
        pytest.param(pubsub_job(schedule="every 5 minutes"), id="english-schedule"),
        pytest.param(pubsub_job(schedule="0 0 * * * *"), id="six-fields"),
        pytest.param(pubsub_job(schedule="0 0 31 2 *"), id="never-fires"),
        pytest.param(pubsub_job(time_zone="Mars/Olympus_Mons"), id="unknown-time-zone"),
        pytest.param(types.Job(name=new_job_name(), schedule=NEW_YEAR), id="no-target"),
        pytest.param(
            _with(pubsub_job(), name=new_job_name(f"projects/{PROJECT}/locations/us-central1")),
            id="name-under-another-parent",
        ),
        pytest.param(
            _with(pubsub_job(), pubsub_target=types.PubsubTarget(topic_name=TOPIC)),
            id="pubsub-message-empty",
        ),
        pytest.param(
            _with(
                pubsub_job(),
                pubsub_target=types.PubsubTarget(topic_name="projects/other/topics/t", data=b"x"),
            ),
            id="topic-in-another-project",
        ),
        pytest.param(
            http_job("http://127.0.0.1:9/", http_method=types.HttpMethod.GET, body=b"x"),
            id="body-with-get",
        ),
        pytest.param(http_job("ftp://127.0.0.1/"), id="not-an-http-uri"),
        pytest.param(
            _with(http_job("http://127.0.0.1:9/"), attempt_deadline=timedelta(seconds=5)),
            id="attempt-deadline-too-short",
        ),
        pytest.param(
            pubsub_job(retry_config=types.RetryConfig(retry_count=6)), id="too-many-retries"
        ),
    ],
)
def test_invalid_job_is_refused(scheduler: Scheduler, job: types.Job) -> None:
    with pytest.raises(InvalidArgument):
        scheduler.client.create_job(parent=PARENT, job=job)

    assert list(scheduler.client.list_jobs(parent=PARENT)) == []


def test_malformed_parent_is_invalid(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidArgument):
        scheduler.client.create_job(parent=f"projects/{PROJECT}", job=pubsub_job())


# Delivery ------------------------------------------------------------------------------------


def test_run_job_sends_the_http_request(scheduler: Scheduler, target_server: TargetServer) -> None:
    job = http_job(
        f"{target_server.url}/tasks/daily-report?source=scheduler",
        http_method=types.HttpMethod.PUT,
        headers={"Content-Type": "application/json", "X-Report": "daily"},
        body=b'{"report": "daily"}',
    )
    created = scheduler.client.create_job(parent=PARENT, job=job)

    returned = scheduler.client.run_job(name=created.name)

    assert returned.name == created.name
    request = target_server.next_request()
    assert request.method == "PUT"
    assert request.path == "/tasks/daily-report?source=scheduler"
    assert request.body == b'{"report": "daily"}'
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-report"] == "daily"
    assert request.headers["user-agent"] == "Google-Cloud-Scheduler"
    assert request.headers["x-cloudscheduler"] == "true"
    attempted = wait_for_job(scheduler.client, created.name, has_status)
    assert attempted.status.code == code_pb2.OK
    assert attempted.last_attempt_time is not None


def test_run_job_publishes_to_the_topic(scheduler: Scheduler, published: PublishRecorder) -> None:
    created = scheduler.client.create_job(parent=PARENT, job=pubsub_job())

    scheduler.client.run_job(name=created.name)

    assert published.next_message() == (TOPIC, b"tick", {"kind": "cron"})
    attempted = wait_for_job(scheduler.client, created.name, has_status)
    assert attempted.status.code == code_pb2.OK


@pytest.mark.parametrize(
    ("http_status", "code"),
    [(500, code_pb2.INTERNAL), (404, code_pb2.NOT_FOUND), (503, code_pb2.UNAVAILABLE)],
)
def test_failed_http_attempt_is_recorded_in_status(
    scheduler: Scheduler, target_server: TargetServer, http_status: int, code: int
) -> None:
    target_server.statuses.put(http_status)
    created = scheduler.client.create_job(parent=PARENT, job=http_job(target_server.url))

    scheduler.client.run_job(name=created.name)

    target_server.next_request()
    attempted = wait_for_job(scheduler.client, created.name, has_status)
    assert attempted.status.code == code
    assert str(http_status) in attempted.status.message
    # retry_count is 0: the job simply waits for its next scheduled run.
    assert attempted.schedule_time == created.schedule_time


def test_unreachable_http_target_is_unavailable(scheduler: Scheduler) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    created = scheduler.client.create_job(
        parent=PARENT, job=http_job(f"http://127.0.0.1:{closed_port}/")
    )

    scheduler.client.run_job(name=created.name)

    attempted = wait_for_job(scheduler.client, created.name, has_status)
    assert attempted.status.code == code_pb2.UNAVAILABLE


def test_failed_publish_is_recorded_in_status(
    scheduler: Scheduler, published: PublishRecorder
) -> None:
    published.error = NotFound("Topic not found")
    created = scheduler.client.create_job(parent=PARENT, job=pubsub_job())

    scheduler.client.run_job(name=created.name)

    attempted = wait_for_job(scheduler.client, created.name, has_status)
    assert attempted.status.code == code_pb2.NOT_FOUND
    assert "Topic not found" in attempted.status.message


def test_failed_attempt_is_retried_after_the_backoff(
    timed_scheduler: Scheduler, clock: FakeClock, target_server: TargetServer
) -> None:
    target_server.statuses.put(500)
    retry_config = types.RetryConfig(retry_count=2, min_backoff_duration=timedelta(seconds=10))
    job = _with(http_job(target_server.url), retry_config=retry_config)
    created = timed_scheduler.client.create_job(parent=PARENT, job=job)

    timed_scheduler.client.run_job(name=created.name)
    target_server.next_request()
    failed = wait_for_job(timed_scheduler.client, created.name, has_status)

    assert failed.status.code == code_pb2.INTERNAL
    assert failed.schedule_time == MONDAY_MORNING + timedelta(seconds=10)
    assert timed_scheduler.emulator.fire_due_jobs(MONDAY_MORNING + timedelta(seconds=9)) == []
    clock.now = MONDAY_MORNING + timedelta(seconds=10)
    assert timed_scheduler.emulator.fire_due_jobs(clock.now) == [created.name]
    target_server.next_request()
    retried = wait_for_job(
        timed_scheduler.client, created.name, lambda job: job.status.code == code_pb2.OK
    )
    assert retried.last_attempt_time == clock.now
    assert retried.schedule_time == created.schedule_time


# Cron firing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monday", "paris_nine_in_utc"),
    [
        pytest.param(datetime(2025, 1, 6, tzinfo=UTC), 8, id="winter-cet"),
        pytest.param(datetime(2025, 7, 7, tzinfo=UTC), 7, id="summer-cest"),
    ],
)
def test_cron_fires_at_the_wall_clock_time_of_its_time_zone(
    start_scheduler: Callable[..., Scheduler],
    published: PublishRecorder,
    monday: datetime,
    paris_nine_in_utc: int,
) -> None:
    clock = FakeClock(monday)
    scheduler = start_scheduler(clock=clock)
    paris = scheduler.client.create_job(
        parent=PARENT, job=pubsub_job(schedule="0 9 * * 1", time_zone="Europe/Paris")
    )
    utc = scheduler.client.create_job(parent=PARENT, job=pubsub_job(schedule="0 9 * * 1"))
    paris_fire = monday.replace(hour=paris_nine_in_utc)
    assert paris.schedule_time == paris_fire

    assert scheduler.emulator.fire_due_jobs(paris_fire - timedelta(seconds=1)) == []
    clock.now = paris_fire
    assert scheduler.emulator.fire_due_jobs(clock.now) == [paris.name]
    assert published.next_message() == (TOPIC, b"tick", {"kind": "cron"})
    clock.now = monday.replace(hour=9)
    assert scheduler.emulator.fire_due_jobs(clock.now) == [utc.name]

    fired = wait_for_job(scheduler.client, paris.name, has_status)
    assert fired.status.code == code_pb2.OK
    assert fired.last_attempt_time == paris_fire
    assert fired.schedule_time == paris_fire + timedelta(weeks=1)


def test_paused_job_does_not_fire(
    timed_scheduler: Scheduler, clock: FakeClock, published: PublishRecorder
) -> None:
    created = timed_scheduler.client.create_job(
        parent=PARENT, job=pubsub_job(schedule="*/15 * * * *")
    )
    timed_scheduler.client.pause_job(name=created.name)

    for minutes in (15, 30, 600):
        clock.now = MONDAY_MORNING + timedelta(minutes=minutes)
        assert timed_scheduler.emulator.fire_due_jobs(clock.now) == []

    assert published.messages.empty()
    assert "last_attempt_time" not in timed_scheduler.client.get_job(name=created.name)


def test_http_request_from_cron_carries_the_schedule_time(
    timed_scheduler: Scheduler, clock: FakeClock, target_server: TargetServer
) -> None:
    job = http_job(target_server.url, schedule="*/15 * * * *", body=b"payload")
    created = timed_scheduler.client.create_job(parent=PARENT, job=job)

    clock.now = MONDAY_MORNING + timedelta(minutes=15, seconds=3)
    assert timed_scheduler.emulator.fire_due_jobs(clock.now) == [created.name]

    request = target_server.next_request()
    assert request.method == "POST"
    assert request.headers["x-cloudscheduler-scheduletime"] == "2025-01-06T07:15:00Z"
    assert request.headers["x-cloudscheduler-jobname"] == created.name.rsplit("/", 1)[-1]
    assert request.headers["content-type"] == "application/octet-stream"


def test_background_loop_fires_due_jobs(
    start_scheduler: Callable[..., Scheduler], clock: FakeClock, published: PublishRecorder
) -> None:
    scheduler = start_scheduler(clock=clock, tick_seconds=0.05)
    scheduler.client.create_job(parent=PARENT, job=pubsub_job(schedule="*/15 * * * *"))
    assert published.messages.empty()

    clock.now = MONDAY_MORNING + timedelta(minutes=15)

    assert published.next_message() == (TOPIC, b"tick", {"kind": "cron"})
