"""The SDK against the real webhooks and profiles functions in the local cloud."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from controlroom.sdk import Client
from emulators.cloud import LocalCloud
from emulators.demo import LOCATION, scheduler_job
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.scheduler_client import scheduler_client
from shared.app.segment_entry import segment_run_id
from shared.core.documents import RunDoc
from shared.core.models import RunStatus
from shared.core.topology import TOPOLOGY
from shared.tracking.firestore import FirestoreProfiles, FirestoreRecommendations
from shared.tracking.firestore_segments import FirestoreSegments
from shared.tracking.membership import Membership
from shared.tracking.segments import bundled_segments
from tests.conftest import Emulators
from tests.e2e.conftest import running_cloud
from tests.helpers.waiting import wait_for

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


# --- segments, the workflow an entry starts, behaviour-based recommendations ---------------

SEGMENT_USERS = 20
SEGMENT_EVENTS = 400
SEGMENT_DUPLICATES = 100
PAID = ("pro", "business", "enterprise")
# A real customer of the sample data, so the win-back run its cancellation starts can choose it.
CANCELLING = "cus_0064"


def _expected_segments(
    plans: dict[str, str | None], sent: list[dict[str, Any]], today: date
) -> dict[str, set[str]]:
    """The members of each shipped segment, straight from the definitions' wording."""

    def count(user: str, name: str, days: int | None = None) -> int:
        first = today - timedelta(days=(days or 10_000) - 1)
        return sum(
            1 for e in sent if e["user"] == user and e["name"] == name and e["at"].date() >= first
        )

    unpaid = {u for u, plan in plans.items() if plan not in PAID}
    users = set(plans)
    return {
        "pricing-intent": {u for u in unpaid if count(u, "Viewed Pricing", 7) >= 2},
        "recently-cancelled": {u for u in unpaid if count(u, "Subscription Cancelled", 30) >= 1},
        "engaged-shoppers": {
            u
            for u in users
            if count(u, "Added to Cart", 7) >= 3 or count(u, "Viewed Product", 30) >= 10
        },
        "dormant-customers": {
            u
            for u in users
            if count(u, "Order Completed") >= 1 and count(u, "Session Started", 14) == 0
        },
    }


def _members(segments: FirestoreSegments) -> dict[str, set[str]]:
    return {name: set(segments.members(name)) for name in bundled_segments().names}


def test_segment_memberships_are_exact_and_an_entry_starts_its_workflow_once(
    tracking_cloud: LocalCloud, emulators: Emulators
) -> None:
    emulators.reset()
    rng = random.Random(12)
    now = datetime.now(UTC)
    users = [CANCELLING, *(f"seg-user-{n}" for n in range(SEGMENT_USERS - 1))]
    plans: dict[str, str | None] = {u: rng.choice(["free", "pro", None]) for u in users}
    plans[CANCELLING] = "free"
    client = Client(KEY, tracking_cloud.functions["webhooks"].url, batch_size=50)
    profiles = FirestoreProfiles(emulators.project)
    # Traits first, applied before any behaviour, so no rule sees a user half-identified.
    for user, plan in plans.items():
        client.identify(user, {"plan": plan} if plan else {"name": user})
    assert client.flush(timeout_s=30)
    wait_for(lambda: len(_counters(profiles)) == len(users), 30, "every user identified")
    already, identify_batches = _delivered(tracking_cloud), client.stats.batches

    names = ("Viewed Pricing", "Added to Cart", "Viewed Product", "Session Started")
    lapsed = set(users[1:5])  # nothing in the last two weeks: the dormant candidates
    sent: list[dict[str, Any]] = []
    for i in range(SEGMENT_EVENTS):
        user = rng.choice(users[1:])
        name = rng.choice(names) if i % 10 else "Order Completed"
        recent = rng.randrange(0, 8) if i % 2 else rng.randrange(0, 40)
        days = rng.randrange(15, 40) if user in lapsed else recent
        at = now - timedelta(days=days, minutes=rng.randrange(0, 600))
        item = f"sku-{rng.randrange(12)}"
        message_id = client.track(name, user_id=user, properties={"item_id": item}, timestamp=at)
        sent.append({"user": user, "name": name, "at": at, "item": item, "id": message_id})
    cancelled_at = now - timedelta(days=2)
    message_id = client.track("Subscription Cancelled", user_id=CANCELLING, timestamp=cancelled_at)
    sent.append(
        {
            "user": CANCELLING,
            "name": "Subscription Cancelled",
            "at": cancelled_at,
            "item": None,
            "id": message_id,
        }
    )
    for again in rng.sample(sent, SEGMENT_DUPLICATES):  # as a retrying client re-sends them
        properties = {"item_id": again["item"]} if again["item"] else {}
        client.track(
            again["name"],
            user_id=again["user"],
            properties=properties,
            timestamp=again["at"],
            message_id=again["id"],
        )
    assert client.flush(timeout_s=60)
    batches = client.stats.batches - identify_batches

    wait_for(
        lambda: len(_delivered(tracking_cloud) - already) >= batches,
        60,
        "the profiles function to acknowledge every batch",
        0.2,
    )
    segments = FirestoreSegments(emulators.project)
    expected = _expected_segments(plans, sent, datetime.now(UTC).date())
    wait_for(lambda: _members(segments) == expected, 30, f"memberships {expected}")
    counted = Counter((e["user"], e["name"]) for e in sent)
    for user, counters in _counters(profiles).items():
        behaviour = {n: c for n, c in counters.items() if n != "identify"}
        assert behaviour == {n: c for (u, n), c in counted.items() if u == user}, user
    assert all(expected.values()), f"every segment has members: {expected}"

    # Entering recently-cancelled started a win-back for that customer, exactly once.
    entry = Membership(
        segment="recently-cancelled", user_id=CANCELLING, member=True, entries=1, changed_at=now
    ).change()
    store = FirestoreStore(emulators.project)

    def waiting_for_approval() -> RunDoc | None:
        run = store.get_run(segment_run_id(entry))
        return run if run is not None and run.status is RunStatus.WAITING else None

    run = wait_for(waiting_for_approval, 90, "the win-back run to wait for its approval", 0.5)
    client.shutdown()
    assert run.workflow == "winback" and run.trigger == "segment"
    assert run.params == {"customer_id": CANCELLING}
    assert run.requested_by == "segment:recently-cancelled#1"
    runs = [r for r in store.list_runs(limit=50) if (r.requested_by or "").startswith("segment:")]
    assert [r.run_id for r in runs] == [run.run_id]


def test_the_scheduled_job_serves_co_occurrence_recommendations_in_milliseconds(
    tracking_cloud: LocalCloud, emulators: Emulators
) -> None:
    emulators.reset()
    client = Client(KEY, tracking_cloud.functions["webhooks"].url)
    views = {"ann": ["a", "b"], "bob": ["a", "c"], "cy": ["a", "b", "d"], "dan": ["e"]}
    for user, items in views.items():
        for item in items:
            client.track("Viewed Product", user_id=user, properties={"item_id": item})
    assert client.flush(timeout_s=30)
    profiles = FirestoreProfiles(emulators.project)
    wait_for(lambda: set(_counters(profiles)) == set(views), 30, "four profiles")
    scheduler = scheduler_client(tracking_cloud.scheduler_address)
    schedule = TOPOLOGY.schedule("recommendations-refresh")
    job = scheduler.create_job(
        parent=f"projects/{emulators.project}/locations/{LOCATION}",
        job=scheduler_job(emulators.project, schedule),
    )

    scheduler.run_job(name=job.name)
    recommendations = FirestoreRecommendations(emulators.project)
    wait_for(lambda: recommendations.stored_for("dan"), 30, "the job to store every user's list")
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        answer = client.recommendations("ann", limit=3)
        timings.append(time.perf_counter() - started)
    client.shutdown()

    assert answer["strategy"] == "co-occurrence"
    # d shares a user with b and a (cy); c shares one with a (bob); e only fills.
    assert [i["item_id"] for i in answer["items"]] == ["d", "c", "e"]
    median_ms = sorted(timings)[len(timings) // 2] * 1000
    print(f"\nGET /v1/recommendations median {median_ms:.1f} ms over {len(timings)} requests")
    assert median_ms < 250
