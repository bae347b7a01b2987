"""A local Cloud Scheduler emulator: the v1 gRPC API over in-memory jobs that fire on their cron.

Google ships no Cloud Scheduler emulator, so this module serves
``google.cloud.scheduler.v1.CloudScheduler`` for the official ``CloudSchedulerClient`` (see
``shared.adapters.scheduler_client``). Requests and responses are the proto-plus types shipped in
google-cloud-scheduler, (de)serialised with their own class methods, so there is no protoc step.

Where it deliberately differs from the cloud (each difference errs towards rejecting, so that
what works here also works there):

- Schedules must be five-field unix-cron; the legacy English-like syntax ("every 5 minutes")
  and croniter's extensions (seconds, macros) are rejected with INVALID_ARGUMENT.
- App Engine targets are answered with UNIMPLEMENTED; only Pub/Sub and HTTP targets deliver.
- OAuth/OIDC settings are stored but no ``Authorization`` header is sent (no local token issuer).
- Retries: after a failed attempt the job is retried ``retry_count`` times, waiting
  ``min_backoff_duration`` doubled ``max_doublings`` times, then growing linearly, capped at
  ``max_backoff_duration`` (the progression documented on ``RetryConfig``); a retry that would
  land on or after the next scheduled time is dropped. ``max_retry_duration`` is ignored.
- Daylight-saving edges follow croniter (a wall-clock time inside the repeated autumn hour fires
  twice); this has not been checked against the cloud.
- A paused job has no ``schedule_time``; RunJob also runs a paused job, once, without retries.
- Jobs live in memory only and are lost on ``stop()``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc
import httpx
from croniter import CroniterBadDateError, croniter
from google.api_core import exceptions as api_exceptions
from google.cloud.pubsub_v1 import PublisherClient
from google.cloud.scheduler_v1 import types
from google.protobuf import empty_pb2, field_mask_pb2
from google.rpc import code_pb2, status_pb2

__all__ = ["SERVICE_NAME", "Clock", "Publish", "SchedulerEmulator"]

SERVICE_NAME = "google.cloud.scheduler.v1.CloudScheduler"

Publish = Callable[[str, bytes, dict[str, str]], None]
Clock = Callable[[], datetime]

logger = logging.getLogger(__name__)

_PARENT = re.compile(r"projects/(?P<project>[A-Za-z0-9.:-]+)/locations/(?P<location>[a-z0-9-]+)")
_JOB_NAME = re.compile(rf"(?P<parent>{_PARENT.pattern})/jobs/(?P<job_id>[A-Za-z0-9_-]{{1,500}})")
_TOPIC_NAME = re.compile(r"projects/(?P<project>[^/]+)/topics/(?P<topic>[^/]+)")

# Limits and defaults from the Cloud Scheduler v1 reference (Job, HttpTarget, RetryConfig).
_MAX_PAGE_SIZE = 500
_DEFAULT_ATTEMPT_DEADLINE = timedelta(minutes=3)
_MIN_ATTEMPT_DEADLINE = timedelta(seconds=15)
_MAX_ATTEMPT_DEADLINE = timedelta(minutes=30)
_MAX_RETRY_COUNT = 5
_DEFAULT_MIN_BACKOFF = timedelta(seconds=5)
_DEFAULT_MAX_BACKOFF = timedelta(hours=1)
_DEFAULT_MAX_DOUBLINGS = 5
_BODY_METHODS = {types.HttpMethod.POST, types.HttpMethod.PUT, types.HttpMethod.PATCH}
# proto-plus enum members reach mypy as plain ints; calling the enum types them properly.
_ENABLED = types.Job.State(types.Job.State.ENABLED)
_PAUSED = types.Job.State(types.Job.State.PAUSED)
_POST = types.HttpMethod(types.HttpMethod.POST)
_UPDATABLE_FIELDS = {
    "description",
    "pubsub_target",
    "app_engine_http_target",
    "http_target",
    "schedule",
    "time_zone",
    "retry_config",
    "attempt_deadline",
}
_OUTPUT_ONLY_FIELDS = ("user_update_time", "state", "status", "schedule_time", "last_attempt_time")
_PUBLISH_TIMEOUT_SECONDS = 60.0
_ATTEMPT_WORKERS = 4
_GRPC_WORKERS = 8

# The google.rpc.Code mapping of HTTP answers, as documented in google/rpc/code.proto.
_CODE_FOR_HTTP_STATUS = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    409: code_pb2.ABORTED,
    412: code_pb2.FAILED_PRECONDITION,
    429: code_pb2.RESOURCE_EXHAUSTED,
    499: code_pb2.CANCELLED,
    500: code_pb2.INTERNAL,
    501: code_pb2.UNIMPLEMENTED,
    503: code_pb2.UNAVAILABLE,
    504: code_pb2.DEADLINE_EXCEEDED,
}


class _RpcError(Exception):
    """A request the API refuses, carrying the gRPC status to answer with."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _AttemptFailed(Exception):
    """A delivery the target did not acknowledge, carrying the google.rpc code to record."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class _Attempt:
    """One delivery of a job: which retry it is and the cron time it serves (None for RunJob)."""

    retry_number: int
    schedule_time: datetime | None


@dataclass(frozen=True)
class _Retry:
    """A retry of a failed attempt, due at ``at``."""

    at: datetime
    attempt: _Attempt


@dataclass
class _JobRecord:
    """A stored job and its firing state; guarded by the emulator's lock."""

    job: types.Job
    next_run: datetime | None
    retry: _Retry | None = None
    in_flight: int = 0


class SchedulerEmulator:
    """An in-process Cloud Scheduler: gRPC API, cron firing loop and target delivery."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        publish: Publish | None = None,
        clock: Clock | None = None,
        tick_seconds: float = 1.0,
    ) -> None:
        """Configure the emulator; nothing listens or fires until ``start()``."""
        self._host = host
        self._port = port
        self._default_publisher: _PubsubPublisher | None = None
        if publish is None:
            publish = self._default_publisher = _PubsubPublisher()
        self._publish = publish
        self._clock: Clock = clock or _utc_now
        self._tick_seconds = tick_seconds
        self._lock = threading.Lock()
        self._jobs: dict[str, _JobRecord] = {}
        self._stopping = threading.Event()
        self._server: Any = None
        self._loop: threading.Thread | None = None
        # Deliveries run here so that neither RunJob nor the firing loop waits on a target.
        self._attempts = futures.ThreadPoolExecutor(
            max_workers=_ATTEMPT_WORKERS, thread_name_prefix="scheduler-attempt"
        )
        # Deliveries go to local function processes: a developer's HTTP(S)_PROXY must not
        # reroute them, hence trust_env=False.
        self._http = httpx.Client(follow_redirects=True, trust_env=False)
        self.address = ""

    # Lifecycle -----------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving gRPC and firing jobs; return the ``host:port`` address."""
        if self._server is not None:
            raise RuntimeError("SchedulerEmulator already started")
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=_GRPC_WORKERS, thread_name_prefix="scheduler")
        )
        handler = grpc.method_handlers_generic_handler(SERVICE_NAME, self._method_handlers())
        server.add_generic_rpc_handlers((handler,))
        bound_port = server.add_insecure_port(f"{self._host}:{self._port}")
        server.start()
        self._server = server
        self.address = f"{self._host}:{bound_port}"
        self._loop = threading.Thread(target=self._run_loop, name="scheduler-loop", daemon=True)
        self._loop.start()
        logger.info("Cloud Scheduler emulator listening on %s", self.address)
        return self.address

    def stop(self) -> None:
        """Stop the loop and the server, wait for attempts in flight, release clients."""
        with self._lock:
            self._stopping.set()
        if self._loop is not None:
            self._loop.join()
        if self._server is not None:
            self._server.stop(grace=None).wait()
        self._attempts.shutdown(wait=True, cancel_futures=True)
        self._http.close()
        if self._default_publisher is not None:
            self._default_publisher.close()

    def _run_loop(self) -> None:
        while not self._stopping.wait(self._tick_seconds):
            self.fire_due_jobs(self._clock())

    # Firing --------------------------------------------------------------------------------

    def fire_due_jobs(self, now: datetime) -> list[str]:
        """Start an attempt for each enabled job whose cron or retry time has come; return names."""
        if now.tzinfo is None:
            raise ValueError("fire_due_jobs needs an aware datetime")
        fired: list[str] = []
        with self._lock:
            if self._stopping.is_set():
                return fired
            for name, record in self._jobs.items():
                attempt = _take_due_attempt(record, now)
                if attempt is not None:
                    self._dispatch(record, attempt, now)
                    fired.append(name)
        return fired

    def _dispatch(self, record: _JobRecord, attempt: _Attempt, started: datetime) -> None:
        """Hand one attempt to the worker pool; the caller holds the lock."""
        record.in_flight += 1
        record.job.last_attempt_time = started
        future = self._attempts.submit(self._execute, record, _copy(record.job), attempt)
        future.add_done_callback(_log_worker_crash)

    def _execute(self, record: _JobRecord, job: types.Job, attempt: _Attempt) -> None:
        status = self._deliver(job, attempt)
        # One critical section, so whoever sees the outcome also sees the job free to fire.
        with self._lock:
            record.in_flight -= 1
            self._record_outcome(record, attempt, status)

    def _record_outcome(
        self, record: _JobRecord, attempt: _Attempt, status: status_pb2.Status
    ) -> None:
        """Store an attempt's status and plan a retry if one is due; the caller holds the lock."""
        record.job.status = status
        retry_count = record.job.retry_config.retry_count
        enabled = record.job.state == _ENABLED
        if status.code != code_pb2.OK and enabled and attempt.retry_number < retry_count:
            retry_at = self._clock() + _backoff(record.job.retry_config, attempt.retry_number)
            # The cloud retries "until the next scheduled execution time": the cron run wins.
            if record.next_run is None or retry_at < record.next_run:
                retry = _Attempt(attempt.retry_number + 1, attempt.schedule_time)
                record.retry = _Retry(at=retry_at, attempt=retry)
        _refresh_schedule_time(record)

    def _deliver(self, job: types.Job, attempt: _Attempt) -> status_pb2.Status:
        """Run one attempt and return its google.rpc.Status; a failure never escapes."""
        try:
            if _target_kind(job) == "pubsub_target":
                self._publish_to_topic(job)
            else:
                self._send_http_request(job, attempt)
        # Whatever the target (or an injected publish callable) raised, the cloud records it as
        # the attempt's outcome and carries on; so does the emulator, after logging it.
        except Exception as error:
            code = _code_for_failure(error)
            logger.warning("Job %s attempt failed (%s): %s", job.name, code, error)
            return status_pb2.Status(code=code, message=str(error))
        logger.info("Job %s attempt succeeded", job.name)
        return status_pb2.Status(code=code_pb2.OK)

    def _publish_to_topic(self, job: types.Job) -> None:
        target = job.pubsub_target
        self._publish(target.topic_name, target.data, dict(target.attributes))

    def _send_http_request(self, job: types.Job, attempt: _Attempt) -> None:
        target = job.http_target
        deadline = job.attempt_deadline or _DEFAULT_ATTEMPT_DEADLINE
        response = self._http.request(
            types.HttpMethod(target.http_method).name,
            target.uri,
            headers=_request_headers(job, attempt),
            content=target.body or None,
            timeout=deadline.total_seconds(),
        )
        if not response.is_success:
            raise _AttemptFailed(
                _CODE_FOR_HTTP_STATUS.get(response.status_code, code_pb2.UNKNOWN),
                f"HTTP {response.status_code} from {target.uri}",
            )

    # gRPC plumbing -------------------------------------------------------------------------

    def _method_handlers(self) -> dict[str, Any]:
        job_response = types.Job.serialize
        return {
            "ListJobs": _unary(
                self._list_jobs, types.ListJobsRequest, types.ListJobsResponse.serialize
            ),
            "GetJob": _unary(self._get_job, types.GetJobRequest, job_response),
            "CreateJob": _unary(self._create_job, types.CreateJobRequest, job_response),
            "UpdateJob": _unary(self._update_job, types.UpdateJobRequest, job_response),
            "DeleteJob": _unary(
                self._delete_job, types.DeleteJobRequest, empty_pb2.Empty.SerializeToString
            ),
            "PauseJob": _unary(self._pause_job, types.PauseJobRequest, job_response),
            "ResumeJob": _unary(self._resume_job, types.ResumeJobRequest, job_response),
            "RunJob": _unary(self._run_job, types.RunJobRequest, job_response),
        }

    @contextmanager
    def _locked_record(self, name: str) -> Iterator[_JobRecord]:
        """Hold the lock over the named job, or refuse with INVALID_ARGUMENT / NOT_FOUND."""
        if not _JOB_NAME.fullmatch(name):
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid job name {name!r}")
        with self._lock:
            record = self._jobs.get(name)
            if record is None:
                raise _RpcError(grpc.StatusCode.NOT_FOUND, f"Job {name} not found")
            yield record

    # RPCs ----------------------------------------------------------------------------------

    def _list_jobs(self, request: types.ListJobsRequest) -> types.ListJobsResponse:
        prefix = f"{_check_parent(request.parent)}/jobs/"
        if request.page_size < 0:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "page_size must not be negative")
        page_size = min(request.page_size or _MAX_PAGE_SIZE, _MAX_PAGE_SIZE)
        after = _decode_page_token(request.page_token, prefix)
        with self._lock:
            names = sorted(name for name in self._jobs if name.startswith(prefix) and name > after)
            page = [_copy(self._jobs[name].job) for name in names[:page_size]]
        more = len(names) > page_size
        token = _encode_page_token(page[-1].name) if more else ""
        return types.ListJobsResponse(jobs=page, next_page_token=token)

    def _get_job(self, request: types.GetJobRequest) -> types.Job:
        with self._locked_record(request.name) as record:
            return _copy(record.job)

    def _create_job(self, request: types.CreateJobRequest) -> types.Job:
        parent = _check_parent(request.parent)
        job = _copy(request.job)
        if not job.name:
            job.name = f"{parent}/jobs/{uuid.uuid4().hex}"
        match = _JOB_NAME.fullmatch(job.name)
        if match is None or match["parent"] != parent:
            raise _RpcError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Job name {job.name!r} is not under {parent}"
            )
        now = self._clock()
        for output_only in _OUTPUT_ONLY_FIELDS:
            delattr(job, output_only)
        _check_job(job, now)
        job.state = _ENABLED
        job.user_update_time = now
        with self._lock:
            if job.name in self._jobs:
                raise _RpcError(grpc.StatusCode.ALREADY_EXISTS, f"Job {job.name} already exists")
            record = _JobRecord(job=job, next_run=_next_run(job, now))
            _refresh_schedule_time(record)
            self._jobs[job.name] = record
            return _copy(job)

    def _update_job(self, request: types.UpdateJobRequest) -> types.Job:
        with self._locked_record(request.job.name) as record:
            updated = _copy(record.job)
            changed = _apply_update(updated, request.job, request.update_mask)
            now = self._clock()
            _check_job(updated, now)
            updated.user_update_time = now
            record.job = updated
            timing_changed = bool(changed & {"schedule", "time_zone"})
            if timing_changed and updated.state == _ENABLED:
                record.next_run = _next_run(updated, now)
                _drop_retry_after_next_run(record)
            _refresh_schedule_time(record)
            return _copy(updated)

    def _delete_job(self, request: types.DeleteJobRequest) -> empty_pb2.Empty:
        with self._locked_record(request.name):
            # Attempts in flight keep their (now detached) record and finish harmlessly.
            del self._jobs[request.name]
        return empty_pb2.Empty()

    def _pause_job(self, request: types.PauseJobRequest) -> types.Job:
        with self._locked_record(request.name) as record:
            _require_state(record.job, _ENABLED, "paused")
            record.job.state = _PAUSED
            record.job.user_update_time = self._clock()
            record.next_run = None
            record.retry = None
            _refresh_schedule_time(record)
            return _copy(record.job)

    def _resume_job(self, request: types.ResumeJobRequest) -> types.Job:
        with self._locked_record(request.name) as record:
            _require_state(record.job, _PAUSED, "resumed")
            now = self._clock()
            record.job.state = _ENABLED
            record.job.user_update_time = now
            # Runs missed while paused are not caught up, as in the cloud.
            record.next_run = _next_run(record.job, now)
            _refresh_schedule_time(record)
            return _copy(record.job)

    def _run_job(self, request: types.RunJobRequest) -> types.Job:
        with self._locked_record(request.name) as record:
            if self._stopping.is_set():
                raise _RpcError(grpc.StatusCode.UNAVAILABLE, "Emulator is stopping")
            # The cloud dispatches "even if the job is already running", so in_flight is ignored.
            self._dispatch(record, _Attempt(retry_number=0, schedule_time=None), self._clock())
            return _copy(record.job)


# Firing helpers -----------------------------------------------------------------------------


def _take_due_attempt(record: _JobRecord, now: datetime) -> _Attempt | None:
    """Consume the attempt due at ``now`` (a retry, else the cron run), if the job may fire."""
    # One scheduled execution at a time: a due run waits until the previous one has ended.
    if record.job.state != _ENABLED or record.in_flight:
        return None
    if record.next_run is not None and record.next_run <= now:
        attempt = _Attempt(retry_number=0, schedule_time=record.next_run)
        record.next_run = _next_run(record.job, now)
        record.retry = None
    elif record.retry is not None and record.retry.at <= now:
        attempt = record.retry.attempt
        record.retry = None
    else:
        return None
    _refresh_schedule_time(record)
    return attempt


def _next_run(job: types.Job, after: datetime) -> datetime:
    """The first time strictly after ``after`` that the job's cron names, in its time zone."""
    zone = _zone(job.time_zone)
    local_next: datetime = croniter(job.schedule, after.astimezone(zone)).get_next(datetime)
    return local_next.astimezone(UTC)


def _backoff(retry_config: types.RetryConfig, retry_number: int) -> timedelta:
    """Wait before retry ``retry_number + 1``: doubling, then linear, capped (RetryConfig docs)."""
    minimum = retry_config.min_backoff_duration or _DEFAULT_MIN_BACKOFF
    maximum = retry_config.max_backoff_duration or _DEFAULT_MAX_BACKOFF
    doublings = retry_config.max_doublings or _DEFAULT_MAX_DOUBLINGS
    if retry_number <= doublings:
        wait = minimum * 2**retry_number
    else:
        wait = minimum * 2**doublings * (1 + retry_number - doublings)
    return min(wait, maximum)


def _refresh_schedule_time(record: _JobRecord) -> None:
    """Publish the next firing (a pending retry first) as the job's ``schedule_time``."""
    upcoming = record.retry.at if record.retry is not None else record.next_run
    if upcoming is None:
        del record.job.schedule_time
    else:
        record.job.schedule_time = upcoming


def _drop_retry_after_next_run(record: _JobRecord) -> None:
    retry, next_run = record.retry, record.next_run
    if retry is not None and next_run is not None and retry.at >= next_run:
        record.retry = None


def _request_headers(job: types.Job, attempt: _Attempt) -> httpx.Headers:
    """The job's headers plus the ones Cloud Scheduler sets on every HTTP target request."""
    headers = httpx.Headers(dict(job.http_target.headers))
    for computed in ("Host", "Content-Length"):
        headers.pop(computed, None)
    headers["User-Agent"] = "Google-Cloud-Scheduler"
    headers["X-CloudScheduler"] = "true"
    headers["X-CloudScheduler-JobName"] = job.name.rsplit("/", 1)[-1]
    if attempt.schedule_time is not None:
        headers["X-CloudScheduler-ScheduleTime"] = _rfc3339(attempt.schedule_time)
    if job.http_target.body and "Content-Type" not in headers:
        headers["Content-Type"] = "application/octet-stream"
    return headers


def _code_for_failure(error: Exception) -> int:
    """The google.rpc code a failed attempt is recorded with."""
    if isinstance(error, _AttemptFailed):
        return error.code
    if isinstance(error, api_exceptions.GoogleAPICallError) and error.grpc_status_code:
        return int(error.grpc_status_code.value[0])
    if isinstance(error, httpx.TimeoutException | futures.TimeoutError):
        return code_pb2.DEADLINE_EXCEEDED
    if isinstance(error, httpx.TransportError):
        return code_pb2.UNAVAILABLE
    return code_pb2.UNKNOWN


def _log_worker_crash(future: futures.Future[None]) -> None:
    """Surface a bug in an attempt worker, which the pool would otherwise keep to itself."""
    if not future.cancelled() and (error := future.exception()) is not None:
        logger.error("Scheduler attempt worker crashed", exc_info=error)


# Validation ---------------------------------------------------------------------------------


def _check_parent(parent: str) -> str:
    if not _PARENT.fullmatch(parent):
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid parent {parent!r}")
    return parent


def _check_job(job: types.Job, now: datetime) -> None:
    """Refuse a job the cloud would refuse; normalise the fields it defaults."""
    _check_schedule(job.schedule, _zone(job.time_zone), now)
    kind = _target_kind(job)
    if kind is None:
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Job needs a target")
    if kind == "app_engine_http_target":
        raise _RpcError(grpc.StatusCode.UNIMPLEMENTED, "The emulator has no App Engine targets")
    if kind == "pubsub_target":
        _check_pubsub_target(job)
    else:
        _check_http_target(job)
    retry_count = job.retry_config.retry_count
    if not 0 <= retry_count <= _MAX_RETRY_COUNT:
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "retry_count must be within [0, 5]")


def _check_schedule(schedule: str, zone: ZoneInfo, now: datetime) -> None:
    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        raise _RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, f"Schedule {schedule!r} is not five-field unix-cron"
        )
    try:
        croniter(schedule, now.astimezone(zone)).get_next(datetime)
    except CroniterBadDateError:
        raise _RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, f"Schedule {schedule!r} never fires"
        ) from None


def _zone(name: str) -> ZoneInfo:
    """The job's time zone; empty means UTC, and the API documents lowercase "utc"."""
    if not name or name.lower() == "utc":
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"Unknown time zone {name!r}") from None


def _check_pubsub_target(job: types.Job) -> None:
    target = job.pubsub_target
    topic = _TOPIC_NAME.fullmatch(target.topic_name)
    if topic is None:
        raise _RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, f"Invalid topic name {target.topic_name!r}"
        )
    job_project = job.name.split("/")[1]
    if topic["project"] != job_project:
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "The topic must be in the job's project")
    if not target.data and not target.attributes:
        raise _RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, "A Pub/Sub target needs data or an attribute"
        )


def _check_http_target(job: types.Job) -> None:
    target = job.http_target
    if not target.uri.startswith(("http://", "https://")):
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid target URI {target.uri!r}")
    if target.http_method == types.HttpMethod.HTTP_METHOD_UNSPECIFIED:
        target.http_method = _POST
    if target.body and target.http_method not in _BODY_METHODS:
        raise _RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, "A body is allowed only with POST, PUT or PATCH"
        )
    deadline = job.attempt_deadline
    if deadline and not _MIN_ATTEMPT_DEADLINE <= deadline <= _MAX_ATTEMPT_DEADLINE:
        raise _RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, "attempt_deadline must be within [15s, 30min]"
        )


def _require_state(job: types.Job, state: types.Job.State, action: str) -> None:
    if job.state != state:
        raise _RpcError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"Job {job.name} is {job.state.name}; only an {state.name} job can be {action}",
        )


def _apply_update(job: types.Job, source: types.Job, mask: field_mask_pb2.FieldMask) -> set[str]:
    """Copy the masked fields of ``source`` onto ``job``; return the top-level fields touched."""
    source_pb = types.Job.pb(source)
    paths = list(mask.paths) or [field.name for field, _ in source_pb.ListFields()]
    job_descriptor = types.Job.pb().DESCRIPTOR
    if not field_mask_pb2.FieldMask(paths=paths).IsValidForDescriptor(job_descriptor):
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid update_mask {paths}")
    # The API ignores output-only fields (and the name) rather than refusing them.
    paths = [path for path in paths if path.split(".", 1)[0] in _UPDATABLE_FIELDS]
    field_mask_pb2.FieldMask(paths=paths).MergeMessage(
        source_pb, types.Job.pb(job), replace_message_field=True, replace_repeated_field=True
    )
    return {path.split(".", 1)[0] for path in paths}


# Small conversions --------------------------------------------------------------------------


def _unary(
    behaviour: Callable[[Any], Any],
    request_type: Any,
    serialize_response: Callable[[Any], bytes],
) -> Any:
    """A unary gRPC method handler that turns ``_RpcError`` into the call's status."""

    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behaviour(request)
        except _RpcError as error:
            context.abort(error.code, error.message)

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request_type.deserialize,
        response_serializer=serialize_response,
    )


def _copy(job: types.Job) -> types.Job:
    """A detached copy, so no stored message leaves the lock."""
    return types.Job.deserialize(types.Job.serialize(job))


def _target_kind(job: types.Job) -> str | None:
    kind: str | None = types.Job.pb(job).WhichOneof("target")
    return kind


def _encode_page_token(last_name: str) -> str:
    return base64.urlsafe_b64encode(last_name.encode()).decode()


def _decode_page_token(token: str, prefix: str) -> str:
    """The last job name of the previous page ("" for the first page)."""
    if not token:
        return ""
    try:
        last_name = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        last_name = ""
    if not last_name.startswith(prefix):
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Invalid page_token")
    return last_name


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _PubsubPublisher:
    """Publishes with the official client, created on first use.

    The client finds the Pub/Sub emulator through PUBSUB_EMULATOR_HOST by itself.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: PublisherClient | None = None

    def __call__(self, topic_name: str, data: bytes, attributes: dict[str, str]) -> None:
        """Publish one message and wait until Pub/Sub has accepted it."""
        future = self._get_client().publish(topic_name, data, **attributes)
        future.result(timeout=_PUBLISH_TIMEOUT_SECONDS)

    def close(self) -> None:
        """Release the client, if one was ever created."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.stop()
            client.transport.close()

    def _get_client(self) -> PublisherClient:
        with self._lock:
            if self._client is None:
                self._client = PublisherClient()
            return self._client
