"""The Store conformance suite (tests/contracts/store.py) run against FirestoreStore on the
official emulator; every store of a test shares the emulator, emptied before the test."""

from __future__ import annotations

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.core.ports import Store
from tests.conftest import Emulators
from tests.contracts.store import StoreContract, StoreFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def store_factory(clean_emulators: Emulators) -> StoreFactory:
    """Firestore stores, each with its own client, on the emptied emulator database."""

    def open_store() -> Store:
        return FirestoreStore(clean_emulators.project)

    return open_store


class TestFirestoreStore(StoreContract):
    """FirestoreStore keeps every promise of the Store port, except those marked below."""

    @pytest.mark.xfail(
        strict=True,
        reason="FirestoreStore.reset_failed_tasks returns the failed tasks as read before the "
        "reset with only status set to pending: error still set, last_error not, finished_at "
        "kept; the stored tasks are right",
    )
    def test_reset_failed_tasks_returns_the_tasks_as_they_now_stand(self, store: Store) -> None:
        super().test_reset_failed_tasks_returns_the_tasks_as_they_now_stand(store)

    @pytest.mark.xfail(
        strict=True,
        reason="at the instant expires_at, FirestoreStore.decide_approval counts the approval "
        "as past its expiry (at >= expires_at) while list_expired_approvals does not "
        "(expires_at < now)",
    )
    def test_the_expiry_instant_means_the_same_to_listing_and_deciding(self, store: Store) -> None:
        super().test_the_expiry_instant_means_the_same_to_listing_and_deciding(store)
