"""The tracking API on the webhooks function, and the profiles function, on the emulators."""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import flask
import pytest

from shared.core.messages import TrackedEvent, TrackingEvents
from shared.core.models import utcnow
from shared.core.topology import EVENTS_TOPIC
from shared.tracking.firestore import FirestoreProfiles, FirestoreQuota, FirestoreRecommendations
from shared.wiring import tracking as tracking_wiring
from shared.wiring.settings import get_settings
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client, pubsub_cloud_event
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration

PRO_KEY = "pro-key-0123456789abcdef"
TINY_KEY = "tiny-key-0123456789abcdef"
KEYS = {
    "web": {"key": PRO_KEY, "tier": "pro"},
    "tiny": {"key": TINY_KEY, "tier": "tiny"},
}
PRO = {"Authorization": f"Bearer {PRO_KEY}"}
TINY = {"Authorization": f"Bearer {TINY_KEY}"}


def _clear_caches() -> None:
    from shared.wiring import services as wiring

    get_settings.cache_clear()
    wiring.services.cache_clear()
    tracking_wiring.clear_caches()


@pytest.fixture
def keys(clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CONTROLROOM_TRACKING_KEYS", json.dumps(KEYS))
    monkeypatch.setenv(
        "CONTROLROOM_TRACKING_TIER_QUOTAS", json.dumps({"free": 1000, "pro": 100000, "tiny": 5})
    )
    _clear_caches()
    yield
    monkeypatch.undo()
    _clear_caches()


@pytest.fixture
def webhooks(keys: None) -> flask.testing.FlaskClient:
    return function_client("webhooks", "handle_webhook", "http")


@pytest.fixture
def events_topic(emulators: Emulators) -> Iterator[TopicTap]:
    tap = TopicTap(emulators.project, EVENTS_TOPIC)
    yield tap
    tap.close()


def _quota(emulators: Emulators) -> FirestoreQuota:
    return FirestoreQuota(emulators.project, shards=4)


# --- the webhooks function ---------------------------------------------------------------


def test_track_is_published_on_the_events_topic(
    webhooks: flask.testing.FlaskClient, events_topic: TopicTap
) -> None:
    body = {
        "user_id": "u-1",
        "event": "Viewed Pricing",
        "properties": {"plan": "pro"},
        "timestamp": "2026-11-16T08:00:00Z",
        "message_id": "m-1",
    }

    response = webhooks.post("/v1/track", json=body, headers=PRO)

    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json() == {"accepted": 1, "message_ids": ["m-1"]}
    [message] = events_topic.pull(expected=1)
    published = TrackingEvents.model_validate_json(message.data)
    assert message.attributes["kind"] == "tracking_events"
    assert published.source == "web"
    [event] = published.events
    assert (event.user_id, event.event, event.properties) == (
        "u-1",
        "Viewed Pricing",
        body["properties"],
    )
    assert event.timestamp == datetime(2026, 11, 16, 8, tzinfo=UTC)


def test_basic_auth_with_the_key_as_user_name_is_accepted(
    webhooks: flask.testing.FlaskClient, events_topic: TopicTap
) -> None:
    basic = base64.b64encode(f"{PRO_KEY}:".encode()).decode()

    response = webhooks.post(
        "/v1/identify",
        json={"user_id": "u-1", "traits": {"plan": "free"}},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 202, response.get_data(as_text=True)
    [message_id] = response.get_json()["message_ids"]
    assert message_id.startswith("derived-")
    assert len(events_topic.pull(expected=1)) == 1


def test_a_batch_applies_its_context_to_every_item(
    webhooks: flask.testing.FlaskClient, events_topic: TopicTap
) -> None:
    batch = {
        "context": {"app": "web"},
        "batch": [
            {"type": "identify", "user_id": "u-2", "traits": {"plan": "free"}},
            {"type": "track", "anonymous_id": "a-9", "event": "Signed Up", "context": {"ip": "x"}},
        ],
    }

    response = webhooks.post("/v1/batch", json=batch, headers=PRO)

    assert response.status_code == 202
    [message] = events_topic.pull(expected=1)
    first, second = TrackingEvents.model_validate_json(message.data).events
    assert (first.type, first.context) == ("identify", {"app": "web"})
    assert (second.anonymous_id, second.context) == ("a-9", {"app": "web", "ip": "x"})


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "says"),
    [
        ("/v1/track", {"user_id": "u", "event": "x"}, {}, 401, "Authorization"),
        (
            "/v1/track",
            {"user_id": "u", "event": "x"},
            {"Authorization": "Bearer nope"},
            401,
            "invalid",
        ),
        ("/v1/track", {"user_id": "u"}, PRO, 400, "event"),
        ("/v1/track", {"event": "x"}, PRO, 400, "user_id or anonymous_id"),
        ("/v1/track", {"user_id": "a/b", "event": "x"}, PRO, 400, "user_id"),
        ("/v1/track", {"user_id": "u", "event": "x", "colour": 1}, PRO, 400, "colour"),
        ("/v1/identify", {"traits": {}}, PRO, 400, "user_id"),
        ("/v1/batch", {"batch": []}, PRO, 400, "batch"),
        ("/v1/batch", {"batch": [{"type": "page", "user_id": "u"}]}, PRO, 400, "batch.0"),
        (
            "/v1/batch",
            {"batch": [{"type": "track", "user_id": "u", "event": "e"}] * 501},
            PRO,
            400,
            "batch",
        ),
        (
            "/v1/track",
            {"user_id": "u", "event": "x", "properties": {"p": "y" * 40_000}},
            PRO,
            413,
            "larger",
        ),
    ],
)
def test_a_rejected_request_stores_and_publishes_nothing(
    webhooks: flask.testing.FlaskClient,
    events_topic: TopicTap,
    emulators: Emulators,
    path: str,
    body: dict[str, object],
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    response = webhooks.post(path, json=body, headers=headers)

    assert response.status_code == status, response.get_data(as_text=True)
    assert says in response.get_json()["error"]
    assert events_topic.pull(expected=1, timeout_s=1.0) == []
    assert _quota(emulators).used("web", utcnow().date()) == 0


def test_a_body_that_is_not_json_is_415(webhooks: flask.testing.FlaskClient) -> None:
    response = webhooks.post("/v1/track", data="user_id=u", headers=PRO)

    assert response.status_code == 415


def test_over_the_daily_quota_is_429_with_retry_after_and_nothing_published(
    webhooks: flask.testing.FlaskClient, events_topic: TopicTap, emulators: Emulators
) -> None:
    def batch(n: int) -> dict[str, object]:
        return {"batch": [{"type": "track", "user_id": "u", "event": f"e{i}"} for i in range(n)]}

    first = webhooks.post("/v1/batch", json=batch(3), headers=TINY)
    refused = webhooks.post("/v1/batch", json=batch(3), headers=TINY)
    fits = webhooks.post("/v1/batch", json=batch(2), headers=TINY)
    full = webhooks.post("/v1/track", json={"user_id": "u", "event": "e"}, headers=TINY)

    assert [r.status_code for r in (first, refused, fits, full)] == [202, 429, 202, 429]
    retry_after = int(refused.headers["Retry-After"])
    now = utcnow()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    assert 0 < retry_after <= (midnight - now).total_seconds() + 2
    assert "quota" in refused.get_json()["error"]
    assert _quota(emulators).used("tiny", now.date()) == 5
    assert len(events_topic.pull(expected=3, timeout_s=3.0)) == 2


def test_the_quota_never_lets_concurrent_requests_exceed_it(clean_emulators: Emulators) -> None:
    quota = _quota(clean_emulators)
    day = utcnow().date()

    with ThreadPoolExecutor(8) as pool:
        granted = list(pool.map(lambda _: quota.reserve("race", day, 3, 50), range(40)))

    assert sum(granted) * 3 <= 50
    assert quota.used("race", day) == sum(granted) * 3
    assert sum(granted) >= 10  # conservative near the limit, but not starved


# --- the profiles function ---------------------------------------------------------------


def _event(user: str, name: str, message_id: str, **fields: object) -> TrackedEvent:
    at = datetime(2026, 11, 16, 8, tzinfo=UTC) + timedelta(minutes=len(message_id))
    base: dict[str, object] = {
        "message_id": message_id,
        "type": "track",
        "source": "web",
        "user_id": user,
        "event": name,
        "timestamp": at,
        "received_at": at,
    }
    return TrackedEvent.model_validate({**base, **fields})


def _deliver(client: flask.testing.FlaskClient, message: TrackingEvents, message_id: str) -> int:
    headers, body = pubsub_cloud_event(
        message.model_dump_json().encode(), message.attributes(), message_id, EVENTS_TOPIC
    )
    return client.post("/", data=body, headers=headers).status_code


def test_profiles_count_each_event_once_under_redelivery(clean_emulators: Emulators) -> None:
    client = function_client("profiles", "on_events", "cloudevent")
    events = [
        _event("u-1", "Viewed Pricing", "m-1", properties={"item_id": "pro"}),
        _event("u-1", "Viewed Pricing", "m-22"),
        _event("u-1", "page.view `quoted`", "m-333"),
        _event("u-1", "x", "m-4444", type="identify", event=None, traits={"plan": "free"}),
        _event("u-1", "x", "m-55555", type="identify", event=None, traits={"a.b": {"c": 1}}),
        _event(
            "ignored",
            "Landed",
            "m-66",
            user_id=None,
            anonymous_id="anon-1",
            properties={"n": [[1]]},
        ),
    ]
    message = TrackingEvents(source="web", events=events)

    statuses = [_deliver(client, message, "p-1"), _deliver(client, message, "p-1")]
    again = TrackingEvents(source="web", events=events[:2])
    statuses.append(_deliver(client, again, "p-2"))

    assert statuses == [200, 200, 200]
    profiles = FirestoreProfiles(clean_emulators.project)
    profile = profiles.get("user", "u-1")
    assert profile is not None
    assert profile.doc.counters == {"Viewed Pricing": 2, "page.view `quoted`": 1, "identify": 2}
    assert profile.doc.event_count == 5
    assert profile.doc.traits == {"plan": "free", "a.b": {"c": 1}}
    assert profile.doc.first_seen == events[0].timestamp
    assert profile.doc.last_seen == events[4].timestamp
    assert [e.message_id for e in profile.recent_events] == [
        "m-55555",
        "m-4444",
        "m-333",
        "m-22",
        "m-1",
    ]
    visitor = profiles.get("anonymous", "anon-1")
    assert visitor is not None and visitor.doc.counters == {"Landed": 1}


def test_concurrent_duplicates_for_few_users_count_exactly(clean_emulators: Emulators) -> None:
    profiles = FirestoreProfiles(clean_emulators.project)
    events = [_event(f"u-{i % 3}", f"e{i % 4}", f"m-{i}") for i in range(120)]
    deliveries = events + events[::2] + events[::3]  # duplicates, interleaved by the pool

    with ThreadPoolExecutor(8) as pool:
        applied = list(pool.map(profiles.apply, deliveries))

    assert sum(applied) == len(events)
    expected: dict[str, Counter[str]] = {}
    for event in events:
        expected.setdefault(str(event.user_id), Counter())[event.name] += 1
    for user, counters in expected.items():
        profile = profiles.get("user", user)
        assert profile is not None
        assert profile.doc.counters == dict(counters)
        assert profile.doc.event_count == sum(counters.values())


# --- recommendations ---------------------------------------------------------------------


def test_recommendations_serve_the_popular_items_the_user_has_not_seen(
    webhooks: flask.testing.FlaskClient, emulators: Emulators
) -> None:
    profiles = FirestoreProfiles(emulators.project)
    views = {"u-1": ["a", "b"], "u-2": ["a", "c"], "u-3": ["a", "b"], "u-4": ["d"]}
    for user, items in views.items():
        for item in items:
            profiles.apply(_event(user, "Viewed", uuid.uuid4().hex, properties={"item_id": item}))
    before = webhooks.get("/v1/recommendations/u-1", headers=PRO)

    FirestoreRecommendations(emulators.project).refresh_popular()
    after = webhooks.get("/v1/recommendations/u-1?limit=1", headers=PRO)
    newcomer = webhooks.get("/v1/recommendations/nobody", headers=PRO)
    unauthenticated = webhooks.get("/v1/recommendations/u-1")

    assert before.get_json() == {"user_id": "u-1", "strategy": "none", "items": []}
    assert after.get_json() == {
        "user_id": "u-1",
        "strategy": "popularity",
        "items": [{"item_id": "c", "score": 1.0}],
    }
    assert [i["item_id"] for i in newcomer.get_json()["items"]] == ["a", "b", "c", "d"]
    assert unauthenticated.status_code == 401
