"""End-to-end tier: the whole local cloud, every function a real process, started once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulators.cloud import LocalCloud, LocalCloudConfig
from shared.adapters.firestore_store import FirestoreStore
from shared.core.documents import RunDoc
from tests.conftest import API_TOKEN, Emulators
from tests.helpers.waiting import wait_for

RUN_TIMEOUT_S = 60.0


def running_cloud(
    emulators: Emulators, tmp_path_factory: pytest.TempPathFactory, **config: Any
) -> Iterator[LocalCloud]:
    """A local cloud on the session's emulators for one module; `config` adjusts it."""
    settings = LocalCloudConfig(
        project=emulators.project,
        api_token=API_TOKEN,
        workdir=tmp_path_factory.mktemp("local-cloud"),
        **config,
    )
    local = LocalCloud(settings).start(emulators=(emulators.firestore, emulators.pubsub))
    yield local
    local.stop()


@pytest.fixture(scope="module")
def cloud(emulators: Emulators, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """The local cloud on the session's emulators (functions, delivery, scheduler)."""
    yield from running_cloud(emulators, tmp_path_factory)


@pytest.fixture
def store(cloud: LocalCloud, emulators: Emulators) -> FirestoreStore:
    """The store, emptied before the test (and the SMTP sink with it)."""
    emulators.reset()
    if cloud.smtp is not None:
        cloud.smtp.clear()
    return FirestoreStore(emulators.project)


def start_run_via_api(cloud: LocalCloud, **body: object) -> str:
    """POST /runs to the webhooks function over real HTTP; returns the run id."""
    response = httpx.post(
        f"{cloud.webhooks_url}/runs",
        json={"workflow": "weekly_gtm", **body},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def wait_for_run(store: FirestoreStore, run_id: str, timeout_s: float = RUN_TIMEOUT_S) -> RunDoc:
    """The run once it is terminal."""

    def finished() -> RunDoc | None:
        run = store.get_run(run_id)
        return run if run is not None and run.status.terminal else None

    try:
        return wait_for(finished, timeout_s, f"run {run_id} to finish")
    except AssertionError as exc:
        run = store.get_run(run_id)
        last = [f"{e.type}: {e.message}" for e in store.list_events(run_id)[-12:]]
        state = f"{run.status.value} at step {run.step}" if run else "missing"
        raise AssertionError(f"{exc}; the run is {state}; its last events: {last}") from None
