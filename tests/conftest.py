"""Session fixtures: the official emulators start once, and their data is reset between tests."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.cloud import emulator_environment
from emulators.gcloud import RunningEmulator, reset_firestore, start_firestore, start_pubsub
from emulators.provision import provision_pubsub, purge_subscriptions
from shared.core.topology import TOPOLOGY

PROJECT = "controlroom-test"
API_TOKEN = "test-token-1234"
WEBHOOK_SECRETS = {
    p: f"{p}-test-secret" for p in ("tiktok", "linkedin", "zendesk", "stripe", "generic")
}

RATE_LIMITS_OFF = json.dumps({"address": 0, "principal": 0})


class Emulators:
    """The running emulators of this test session."""

    def __init__(self, firestore: RunningEmulator, pubsub: RunningEmulator, log_dir: Path) -> None:
        self.firestore = firestore
        self.pubsub = pubsub
        self.log_dir = log_dir
        self.project = PROJECT

    def reset(self) -> None:
        """Empty Firestore and drop what waits on the topology's subscriptions.

        Tests that read Pub/Sub do so through fresh subscriptions of their own.
        """
        reset_firestore(self.firestore.host, PROJECT)
        purge_subscriptions(PROJECT, TOPOLOGY)


@pytest.fixture(scope="session")
def emulators() -> Iterator[Emulators]:
    """Start Firestore and Pub/Sub once for the session and point every client at them."""
    log_dir = Path(tempfile.mkdtemp(prefix="controlroom-test-"))
    firestore = start_firestore(PROJECT, log_dir)
    try:
        pubsub = start_pubsub(PROJECT, log_dir)
    except BaseException:
        firestore.stop()
        raise
    saved = dict(os.environ)
    os.environ.update(emulator_environment(firestore.host, pubsub.host, PROJECT))
    os.environ["CONTROLROOM_API_TOKEN"] = API_TOKEN
    os.environ["CONTROLROOM_STATUS_URL"] = "http://status.test"
    os.environ["CONTROLROOM_WEBHOOK_SECRETS"] = json.dumps(WEBHOOK_SECRETS)
    # Artifacts the functions publish in-process go to the session's folder, not the checkout.
    os.environ["CONTROLROOM_ARTIFACT_DIR"] = str(log_dir / "artifacts")
    # Every test request comes from one loopback address and one token: the per-caller rate
    # limits are tested on their own (tests/integration/test_rate_limits.py) and off elsewhere.
    os.environ["CONTROLROOM_HTTP_RATE_LIMITS"] = RATE_LIMITS_OFF
    _clear_settings_caches()
    try:
        provision_pubsub(PROJECT, TOPOLOGY)
        yield Emulators(firestore, pubsub, log_dir)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _clear_settings_caches()
        pubsub.stop()
        firestore.stop()


def _clear_settings_caches() -> None:
    from shared.wiring import services as wiring
    from shared.wiring.settings import get_settings

    get_settings.cache_clear()
    for name in dir(wiring):
        cached = getattr(wiring, name)
        if callable(getattr(cached, "cache_clear", None)):
            cached.cache_clear()


@pytest.fixture
def clean_emulators(emulators: Emulators) -> Emulators:
    """The emulators with Firestore emptied before the test."""
    emulators.reset()
    return emulators


@pytest.fixture(autouse=True)
def closed_circuits() -> Iterator[None]:
    """Every test starts with every vendor's circuit closed (breakers live per process)."""
    from shared.http.breaker import reset_breakers

    reset_breakers()
    yield
    reset_breakers()
