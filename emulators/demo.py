"""The main job: schedule the weekly report through the Cloud Scheduler API and watch it run."""

from __future__ import annotations

import json
import time

from google.cloud import scheduler_v1

from emulators.cloud import LocalCloud
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.scheduler_client import scheduler_client
from shared.models import RunDoc
from shared.topology import Schedule

LOCATION = "europe-west1"


def scheduler_job(project: str, schedule: Schedule) -> scheduler_v1.Job:
    """The Cloud Scheduler job that a topology schedule becomes (Pub/Sub target)."""
    return scheduler_v1.Job(
        name=f"projects/{project}/locations/{LOCATION}/jobs/{schedule.name}",
        description=schedule.description,
        schedule=schedule.cron,
        time_zone=schedule.time_zone,
        pubsub_target=scheduler_v1.PubsubTarget(
            topic_name=f"projects/{project}/topics/{schedule.topic}",
            data=json.dumps(schedule.payload).encode(),
            attributes=schedule.attributes,
        ),
    )


def create_schedules(cloud: LocalCloud) -> list[str]:
    """Create every schedule of the topology through the official Cloud Scheduler client."""
    client = scheduler_client(cloud.scheduler_address)
    parent = f"projects/{cloud.config.project}/locations/{LOCATION}"
    names = []
    for schedule in cloud.config.topology.schedules:
        job = client.create_job(parent=parent, job=scheduler_job(cloud.config.project, schedule))
        names.append(job.name)
    return names


def wait_for_new_run(store: FirestoreStore, known: set[str], timeout_s: float) -> RunDoc:
    """The first run that appears and is not in `known`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for run in store.list_runs(limit=10):
            if run.run_id not in known:
                return run
        time.sleep(0.2)
    raise TimeoutError(f"no run appeared within {timeout_s}s")


def watch_run(store: FirestoreStore, run_id: str, timeout_s: float) -> RunDoc:
    """Print each timeline event as it appears until the run is finished."""
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for event in store.list_events(run_id):
            if event.event_id not in seen:
                seen.add(event.event_id)
                print(f"  {event.at:%H:%M:%S.%f}"[:-3] + f"  {event.type:<22} {event.message}")
        run = store.get_run(run_id)
        if run is not None and run.status.terminal:
            return run
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} did not finish within {timeout_s}s")


def run_demo(cloud: LocalCloud, timeout_s: float = 180.0) -> bool:
    """Create the schedule, run it now, follow the run; True when it succeeded."""
    store = FirestoreStore(cloud.config.project)
    known = {run.run_id for run in store.list_runs(limit=100)}
    job_names = create_schedules(cloud)
    weekly = next(name for name in job_names if name.endswith("/weekly-gtm"))
    print(
        f"\ncreated {len(job_names)} schedule(s) through the Cloud Scheduler API; "
        f"running {weekly} now"
    )
    started = time.monotonic()
    scheduler_client(cloud.scheduler_address).run_job(name=weekly)
    run = wait_for_new_run(store, known, timeout_s)
    print(f"run {run.run_id} started:")
    run = watch_run(store, run.run_id, timeout_s)
    print(f"\nrun {run.run_id} {run.status.value} in {time.monotonic() - started:.1f}s")
    if run.summary:
        print(f"summary: {run.summary}")
    for reason in run.failure_reasons:
        print(f"failure: {reason}")
    print(f"status page: {cloud.status_url}/runs/{run.run_id}")
    return run.status.value == "succeeded"
