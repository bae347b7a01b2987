"""Request rate limits per caller on the webhooks and status functions: 429 with Retry-After,
and nothing stored or published for a request turned away."""

from __future__ import annotations

import json
from collections.abc import Iterator

import flask
import pytest

from shared.core.topology import RUN_REQUESTS_TOPIC
from shared.security.ratelimit import caller_limits
from tests.conftest import API_TOKEN, Emulators
from tests.helpers.functions_app import function_client
from tests.helpers.pubsub import TopicTap
from tests.helpers.status_client import clear_settings_caches, status_client

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def limited(clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Three requests a minute per address, two per credential."""
    monkeypatch.setenv("CONTROLROOM_HTTP_RATE_LIMITS", json.dumps({"address": 3, "principal": 2}))
    clear_settings_caches()
    caller_limits.cache_clear()
    yield
    monkeypatch.undo()
    clear_settings_caches()
    caller_limits.cache_clear()


@pytest.fixture
def webhooks(limited: None) -> flask.testing.FlaskClient:
    return function_client("webhooks", "handle_webhook", "http")


def _assert_limited(response: flask.Response, what: str) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert f"requests a minute from this {what}" in response.get_json()["error"]


def test_an_address_over_its_limit_gets_429_and_others_are_still_served(
    webhooks: flask.testing.FlaskClient,
) -> None:
    flooder = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}

    answers = [webhooks.get("/healthz", headers=flooder) for _ in range(4)]
    other = webhooks.get("/healthz", headers={"X-Forwarded-For": "198.51.100.2"})

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    _assert_limited(answers[3], "address")
    assert other.status_code == 200


def test_the_run_api_token_over_its_limit_starts_no_further_run(
    webhooks: flask.testing.FlaskClient, emulators: Emulators
) -> None:
    tap = TopicTap(emulators.project, RUN_REQUESTS_TOPIC)
    try:
        answers = [
            webhooks.post(
                "/runs",
                json={"workflow": "weekly_gtm"},
                headers={**AUTH, "X-Forwarded-For": f"192.0.2.{n}"},
            )
            for n in range(3)
        ]
        published = tap.pull(expected=2)
        late = tap.pull(expected=1, timeout_s=2)
    finally:
        tap.close()

    assert [a.status_code for a in answers[:2]] == [202, 202]
    _assert_limited(answers[2], "principal")
    assert len(published) == 2 and late == []


def test_the_status_api_limits_each_token(limited: None) -> None:
    client = status_client()

    answers = [
        client.get("/api/runs", headers={**AUTH, "X-Forwarded-For": f"192.0.2.{n}"})
        for n in range(3)
    ]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    _assert_limited(answers[2], "principal")
