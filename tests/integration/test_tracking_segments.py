"""Segments and behaviour-based recommendations on the emulators: memberships, changes, jobs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import flask
import pytest

from shared.adapters.pubsub_bus import PubSubBus
from shared.app.segment_entry import segment_run_id, start_workflow_on_entry
from shared.core.messages import RunRequest, SegmentChange, TrackedEvent
from shared.core.topology import RUN_REQUESTS_TOPIC, SEGMENT_CHANGES_TOPIC
from shared.tracking.firestore import FirestoreProfiles, FirestoreRecommendations
from shared.tracking.firestore_segments import MEMBERS, FirestoreSegments
from shared.tracking.membership import Membership, refresh_all_segments, update_segments
from shared.tracking.recommendations import refresh_recommendations
from shared.tracking.segments import MAX_WINDOW_DAYS, parse_segments
from shared.wiring import tracking as tracking_wiring
from shared.wiring.settings import get_settings
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client, pubsub_cloud_event
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CATALOG = parse_segments(
    """
version: 1
segments:
  - name: pricing-intent
    title: Viewed pricing twice in 7 days, not on a paid plan
    rule:
      all:
        - {event: Viewed Pricing, at_least: 2, within_days: 7}
        - {trait: plan, not_in: [pro]}
  - name: cancelled
    title: Cancelled
    rule: {event: Subscription Cancelled, at_least: 1}
    on_enter: {workflow: winback, user_param: customer_id, params: {max_customers: 1}}
"""
)
KEY = "pro-key-0123456789abcdef"


def _clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def _track(user: str, name: str, at: datetime, **fields: object) -> TrackedEvent:
    base: dict[str, object] = {
        "message_id": uuid.uuid4().hex,
        "type": "track",
        "source": "web",
        "user_id": user,
        "event": name,
        "timestamp": at,
        "received_at": at,
    }
    return TrackedEvent.model_validate({**base, **fields})


def _identify(user: str, at: datetime, **traits: object) -> TrackedEvent:
    return _track(user, "", at, type="identify", event=None, traits=traits)


@pytest.fixture
def changes(clean_emulators: Emulators) -> Iterator[TopicTap]:
    tap = TopicTap(clean_emulators.project, SEGMENT_CHANGES_TOPIC)
    yield tap
    tap.close()


def _received(tap: TopicTap, expected: int) -> list[SegmentChange]:
    """The `expected` changes, and any more already published (publishing is synchronous)."""
    messages = tap.pull(expected, timeout_s=5)
    messages += tap.pull(1, timeout_s=0.5)
    return [SegmentChange.model_validate_json(m.data) for m in messages]


def _evaluate(emulators: Emulators, users: list[str], at: datetime) -> None:
    update_segments(
        users,
        catalog=CATALOG,
        store=FirestoreSegments(emulators.project),
        bus=PubSubBus(emulators.project),
        clock=_clock(at),
    )


def test_a_user_enters_once_leaves_when_the_window_passes_and_enters_again(
    clean_emulators: Emulators, changes: TopicTap
) -> None:
    profiles = FirestoreProfiles(clean_emulators.project)
    segments = FirestoreSegments(clean_emulators.project)
    bus = PubSubBus(clean_emulators.project)
    for event in (
        _identify("ann", NOW - timedelta(days=3), plan="free"),
        _track("ann", "Viewed Pricing", NOW - timedelta(days=3)),
        _track("ann", "Viewed Pricing", NOW - timedelta(days=1)),
        _track("bob", "Viewed Pricing", NOW - timedelta(days=1)),
    ):
        profiles.apply(event)

    _evaluate(clean_emulators, ["ann", "bob"], NOW)
    _evaluate(clean_emulators, ["ann", "bob"], NOW)  # nothing changed: nothing said
    entered = _received(changes, 1)

    assert [(c.segment, c.user_id, c.change, c.entry) for c in entered] == [
        ("pricing-intent", "ann", "entered", 1)
    ]
    assert segments.members("pricing-intent") == ["ann"]

    # Five days later the first view is out of the window; the hourly job lets ann go.
    later = refresh_all_segments(
        catalog=CATALOG, store=segments, bus=bus, clock=_clock(NOW + timedelta(days=5))
    )
    assert [(c.user_id, c.change, c.entry) for c in later.left] == [("ann", "left", 1)]
    assert segments.members("pricing-intent") == []

    profiles.apply(_track("ann", "Viewed Pricing", NOW + timedelta(days=5)))
    _evaluate(clean_emulators, ["ann"], NOW + timedelta(days=5))
    said = _received(changes, 2)

    assert [(c.change, c.entry) for c in said] == [("left", 1), ("entered", 2)]
    assert len({c.change_id for c in (*entered, *said)}) == 3
    assert segments.members("pricing-intent") == ["ann"]


def test_concurrent_evaluations_of_the_same_users_store_one_entry_each(
    clean_emulators: Emulators, changes: TopicTap
) -> None:
    profiles = FirestoreProfiles(clean_emulators.project)
    users = [f"u-{n}" for n in range(6)]
    for user in users:
        for days_ago in (1, 2):
            profiles.apply(_track(user, "Viewed Pricing", NOW - timedelta(days=days_ago)))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _evaluate(clean_emulators, users, NOW), range(8)))

    stored = [
        Membership.model_validate(d.to_dict())
        for d in FirestoreSegments(clean_emulators.project).client.collection(MEMBERS).stream()
    ]
    assert sorted((m.user_id, m.member, m.entries) for m in stored) == [(u, True, 1) for u in users]
    said = _received(changes, len(users))
    # Copies may be said twice (a re-announcement racing the first); each says the same thing.
    assert {(c.user_id, c.change_id) for c in said} == {
        (m.user_id, m.change().change_id) for m in stored
    }


def test_a_change_written_but_never_announced_is_announced_by_the_next_evaluation(
    clean_emulators: Emulators, changes: TopicTap
) -> None:
    profiles = FirestoreProfiles(clean_emulators.project)
    segments = FirestoreSegments(clean_emulators.project)
    profiles.apply(_track("cy", "Subscription Cancelled", NOW))
    # As if the process died after the compare-and-set and before publishing.
    crashed = Membership(segment="cancelled", user_id="cy", member=True, entries=1, changed_at=NOW)
    assert segments.transition(crashed, None) is not None

    _evaluate(clean_emulators, ["cy"], NOW)
    _evaluate(clean_emulators, ["cy"], NOW)
    said = _received(changes, 1)

    assert [c.change_id for c in said] == [crashed.change().change_id]
    stored = segments.memberships(["cy"], ["cancelled"])[("cancelled", "cy")].membership
    assert stored.announced and stored.entries == 1


def test_the_refresh_job_prunes_day_buckets_no_window_reads(clean_emulators: Emulators) -> None:
    profiles = FirestoreProfiles(clean_emulators.project)
    old, recent = NOW - timedelta(days=MAX_WINDOW_DAYS + 3), NOW - timedelta(days=2)
    profiles.apply(_track("dee", "Viewed Pricing", old))
    profiles.apply(_track("dee", "Viewed Pricing", recent))

    refresh_all_segments(
        catalog=CATALOG,
        store=FirestoreSegments(clean_emulators.project),
        bus=PubSubBus(clean_emulators.project),
        clock=_clock(NOW),
    )

    profile = profiles.get("user", "dee")
    assert profile is not None
    assert profile.doc.daily == {recent.date().isoformat(): {"Viewed Pricing": 1}}
    assert profile.doc.counters == {"Viewed Pricing": 2}  # all-time counts stay


def test_an_entry_requests_its_workflow_run_once_under_a_deterministic_id(
    clean_emulators: Emulators,
) -> None:
    tap = TopicTap(clean_emulators.project, RUN_REQUESTS_TOPIC)
    bus = PubSubBus(clean_emulators.project)
    entered = Membership(
        segment="cancelled", user_id="cus_0064", member=True, entries=1, changed_at=NOW
    ).change()
    left = entered.model_copy(update={"change": "left"})
    pricing = entered.model_copy(update={"segment": "pricing-intent"})
    try:
        outcomes = [start_workflow_on_entry(c, CATALOG, bus=bus) for c in (entered, entered)]
        outcomes += [start_workflow_on_entry(c, CATALOG, bus=bus) for c in (left, pricing)]
        messages = tap.pull(2, timeout_s=5) + tap.pull(1, timeout_s=0.5)
        requests = [RunRequest.model_validate_json(m.data) for m in messages]
    finally:
        tap.close()

    assert "requested" in outcomes[0] and "nothing to start" in outcomes[2]
    assert "starts no workflow" in outcomes[3]
    assert len(requests) == 2 and requests[0] == requests[1]  # a copy: the same run id
    assert requests[0].run_id == segment_run_id(entered)
    assert requests[0].workflow == "winback" and requests[0].trigger == "segment"
    assert requests[0].params == {"max_customers": 1, "customer_id": "cus_0064"}


@pytest.fixture
def webhooks(
    clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch
) -> Iterator[flask.testing.FlaskClient]:
    from shared.wiring import services as wiring

    def clear() -> None:
        get_settings.cache_clear()
        wiring.services.cache_clear()
        tracking_wiring.clear_caches()

    monkeypatch.setenv(
        "CONTROLROOM_TRACKING_KEYS", json.dumps({"web": {"key": KEY, "tier": "pro"}})
    )
    clear()
    yield function_client("webhooks", "handle_webhook", "http")
    monkeypatch.undo()
    clear()


def test_recommendations_from_co_occurrence_are_served_from_one_stored_document(
    webhooks: flask.testing.FlaskClient, clean_emulators: Emulators
) -> None:
    profiles = FirestoreProfiles(clean_emulators.project)
    views = {"ann": ["a", "b"], "bob": ["a", "c"], "cy": ["a", "b"], "dee": ["d"], "eve": []}
    for user, items in views.items():
        for item in items:
            profiles.apply(_track(user, "Viewed", NOW, properties={"item_id": item}))
    profiles.apply(_identify("eve", NOW, plan="free"))

    refreshed = refresh_recommendations(FirestoreRecommendations(clean_emulators.project))
    headers = {"Authorization": f"Bearer {KEY}"}
    ann = webhooks.get("/v1/recommendations/ann", headers=headers).get_json()
    eve = webhooks.get("/v1/recommendations/eve?limit=2", headers=headers).get_json()
    newcomer = webhooks.get("/v1/recommendations/zed?limit=1", headers=headers).get_json()

    assert (refreshed.users, refreshed.items, refreshed.co_occurrence_users) == (5, 4, 3)
    assert ann["strategy"] == "co-occurrence"
    assert [i["item_id"] for i in ann["items"]] == ["c", "d"]  # similar, then popular
    assert ann["items"][0]["score"] == pytest.approx(1 / 3**0.5 / 1)  # sim(a, c)
    assert eve == {
        "user_id": "eve",
        "strategy": "popularity",
        "items": [{"item_id": "a", "score": 3.0}, {"item_id": "b", "score": 2.0}],
    }
    assert newcomer["strategy"] == "popularity" and newcomer["items"][0]["item_id"] == "a"


def test_the_maintenance_function_runs_both_tracking_jobs(
    clean_emulators: Emulators, changes: TopicTap
) -> None:
    profiles = FirestoreProfiles(clean_emulators.project)
    now = datetime.now(UTC)
    profiles.apply(_track("fay", "Viewed Pricing", now, properties={"item_id": "pro"}))
    profiles.apply(_track("fay", "Viewed Pricing", now, properties={"item_id": "team"}))
    client = function_client("supervisor", "on_sweep", "cloudevent")

    statuses = [
        client.post("/", data=body, headers=headers).status_code
        for headers, body in (
            pubsub_cloud_event(b"{}", {"kind": kind}, f"tick-{kind}")
            for kind in ("segments_refresh", "recommendations_refresh")
        )
    ]

    assert statuses == [200, 200]
    # The shipped definitions: two pricing views this week and no paid plan.
    assert [(c.segment, c.change) for c in _received(changes, 1)] == [("pricing-intent", "entered")]
    stored = FirestoreRecommendations(clean_emulators.project).stored_for("fay")
    assert stored is not None and stored.strategy == "popularity"
