"""The SDK against the real webhooks and profiles functions in the local cloud."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from controlroom.sdk import Client
from emulators.cloud import LocalCloud
from shared.tracking.firestore import FirestoreProfiles, FirestoreRecommendations
from tests.conftest import Emulators
from tests.e2e.conftest import running_cloud
from tests.support import wait_for

pytestmark = pytest.mark.e2e

KEY = "e2e-tracking-key-0123456789"
EVENTS = 10_000
DUPLICATES = 1_000
USERS = 100
NAMES = ("Viewed Pricing", "Viewed Product", "Added to Cart", "Checked Out")


@pytest.fixture(scope="module")
def tracking_cloud(
    emulators: Emulators, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCloud]:
    keys = json.dumps({"e2e": {"key": KEY, "tier": "pro"}})
    yield from running_cloud(
        emulators, tmp_path_factory, function_env={"webhooks": {"CONTROLROOM_TRACKING_KEYS": keys}}
    )


def _delivered(cloud: LocalCloud) -> set[str]:
    """Ids of the `events` messages the profiles function acknowledged."""
    records = list(cloud.pumps["profiles"].records)
    return {r.message_id for r in records if r.status is not None and r.status < 300}


def _counters(profiles: FirestoreProfiles) -> dict[str, dict[str, int]]:
    docs = profiles.client.collection("profiles").select(["counters"]).stream()
    return {d.id: dict((d.to_dict() or {}).get("counters", {})) for d in docs}


def test_sdk_events_are_counted_exactly_once_in_profiles(
    tracking_cloud: LocalCloud, emulators: Emulators
) -> None:
    emulators.reset()
    already = _delivered(tracking_cloud)
    rng = random.Random(7)
    # Enqueueing outpaces sending; a queue big enough for the burst keeps every event.
    client = Client(
        KEY,
        tracking_cloud.functions["webhooks"].url,
        batch_size=200,
        max_queue_size=EVENTS + DUPLICATES,
    )
    expected: dict[str, Counter[str]] = {}
    sent: list[dict[str, Any]] = []
    started = time.monotonic()

    for i in range(EVENTS):
        user, name = f"user-{rng.randrange(USERS)}", rng.choice(NAMES)
        item = f"sku-{rng.randrange(30)}"
        message_id = client.track(name, user_id=user, properties={"item_id": item, "i": i})
        expected.setdefault(user, Counter())[name] += 1
        sent.append({"user": user, "name": name, "item": item, "message_id": message_id})
    # The same events again, as a client retrying after lost answers would send them.
    for again in rng.sample(sent, DUPLICATES):
        client.track(
            again["name"],
            user_id=again["user"],
            properties={"item_id": again["item"]},
            message_id=again["message_id"],
        )
    assert client.flush(timeout_s=120)
    accepted_s = time.monotonic() - started
    profiles = FirestoreProfiles(emulators.project)
    want = {user: dict(counts) for user, counts in expected.items()}

    wait_for(
        lambda: len(_delivered(tracking_cloud) - already) >= client.stats.batches,
        120,
        "the profiles function to acknowledge every batch",
        0.2,
    )
    applied_s = time.monotonic() - started
    client.shutdown()

    assert client.stats.sent == EVENTS + DUPLICATES
    assert _counters(profiles) == want
    assert client.stats.dropped_failed == client.stats.dropped_queue_full == 0
    print(  # the figures the README quotes
        f"\n{EVENTS + DUPLICATES} events accepted in {accepted_s:.1f} s "
        f"({(EVENTS + DUPLICATES) / accepted_s:.0f}/s); all applied after {applied_s:.1f} s"
    )
    profile = profiles.get("user", "user-0")
    assert profile is not None
    assert profile.doc.event_count == sum(expected["user-0"].values())
    assert len(profile.recent_events) == 20


def test_recommendations_are_served_through_the_sdk(
    tracking_cloud: LocalCloud, emulators: Emulators
) -> None:
    emulators.reset()
    client = Client(KEY, tracking_cloud.functions["webhooks"].url)
    for user, items in {"ann": ["a", "b"], "bob": ["a", "c"], "cy": ["a"]}.items():
        for item in items:
            client.track("Viewed Product", user_id=user, properties={"item_id": item})
    client.identify("ann", {"plan": "free"})
    assert client.flush(timeout_s=30)
    profiles = FirestoreProfiles(emulators.project)
    wait_for(lambda: set(_counters(profiles)) == {"ann", "bob", "cy"}, 30, "three profiles")
    FirestoreRecommendations(emulators.project).refresh_popular()

    answer = client.recommendations("ann")
    client.shutdown()

    assert answer == {
        "user_id": "ann",
        "strategy": "popularity",
        "items": [{"item_id": "c", "score": 1.0}],
    }


def test_a_wrong_key_is_refused_and_the_sdk_drops_the_batch(tracking_cloud: LocalCloud) -> None:
    errors: list[Exception] = []
    client = Client(
        "wrong-key-0123456789abcdef",
        tracking_cloud.functions["webhooks"].url,
        on_error=lambda error, batch: errors.append(error),
    )

    client.track("x", user_id="u")
    assert client.flush(timeout_s=10)
    client.shutdown()
    direct = httpx.post(
        f"{tracking_cloud.functions['webhooks'].url}/v1/track",
        json={"user_id": "u", "event": "x"},
        timeout=10,
    )

    assert client.stats.dropped_failed == 1 and "401" in str(errors[0])
    assert direct.status_code == 401
