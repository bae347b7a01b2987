"""Integration tier: real emulators, Firestore emptied before every test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from tests.conftest import Emulators


@pytest.fixture
def store(clean_emulators: Emulators) -> FirestoreStore:
    """A Firestore store on an empty emulator database."""
    return FirestoreStore(clean_emulators.project)


@pytest.fixture
def bus(emulators: Emulators) -> PubSubBus:
    """A bus publishing to the emulator's topology topics."""
    return PubSubBus(emulators.project)


class SteppingClock:
    """A clock that advances one second per reading, so timelines have a stable order."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    """A deterministic clock."""
    return SteppingClock()
