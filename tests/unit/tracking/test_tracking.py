"""The tracking API's pure parts: keys, request shapes, message ids, quotas' reset, ranking."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from shared.core.errors import UnauthorizedError
from shared.tracking.ingest import seconds_until_next_day
from shared.tracking.keys import TrackingKeySpec, TrackingKeyTable
from shared.tracking.models import BatchBody, TrackBody, accept_item
from shared.tracking.recommendations import item_of, popular_items

KEY = "k" * 20
NOW = datetime(2026, 11, 16, 23, 59, 30, tzinfo=UTC)


def _table() -> TrackingKeyTable:
    spec = TrackingKeySpec(key=SecretStr(KEY), tier="pro")
    return TrackingKeyTable.build({"web": spec}, {"free": 1000, "pro": 100_000})


@pytest.mark.parametrize(
    "header",
    [f"Bearer {KEY}", f"bearer  {KEY} ", "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()],
)
def test_a_key_is_presented_as_bearer_or_basic_user(header: str) -> None:
    key = _table().authenticate(header)

    assert (key.source, key.tier, key.daily_quota) == ("web", "pro", 100_000)


@pytest.mark.parametrize("header", [None, "", "Bearer wrong", "Token x", "Basic !!!", "Basic Og=="])
def test_anything_else_is_unauthorized(header: str | None) -> None:
    with pytest.raises(UnauthorizedError):
        _table().authenticate(header)


def test_a_key_with_an_unknown_tier_or_too_short_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown tier"):
        TrackingKeyTable.build({"web": TrackingKeySpec(key=SecretStr(KEY), tier="gold")}, {})
    with pytest.raises(ValidationError, match="16 characters"):
        TrackingKeySpec(key=SecretStr("short"))


@pytest.mark.parametrize("user_id", ["a/b", ".", "..", "__x__", "", "x" * 257])
def test_user_ids_must_be_firestore_document_ids(user_id: str) -> None:
    with pytest.raises(ValidationError, match="user_id"):
        TrackBody.model_validate({"user_id": user_id, "event": "e"})


def test_a_missing_message_id_is_derived_from_the_content() -> None:
    timed = TrackBody(user_id="u", event="e", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    untimed = TrackBody(user_id="u", event="e")

    same = (
        accept_item(timed, "web", NOW).message_id
        == accept_item(timed, "web", NOW.replace(second=1)).message_id
    )
    other_source = (
        accept_item(timed, "app", NOW).message_id != accept_item(timed, "web", NOW).message_id
    )
    untimed_differ = (
        accept_item(untimed, "web", NOW).message_id
        != accept_item(untimed, "web", NOW.replace(second=1)).message_id
    )

    assert same and other_source and untimed_differ
    assert accept_item(untimed, "web", NOW).timestamp == NOW


def test_a_naive_timestamp_is_utc_and_a_batch_item_needs_its_type() -> None:
    body = TrackBody.model_validate(
        {"user_id": "u", "event": "e", "timestamp": "2026-11-16T08:00:00"}
    )

    assert body.timestamp == datetime(2026, 11, 16, 8, tzinfo=UTC)
    with pytest.raises(ValidationError, match=r"batch\.0"):
        BatchBody.model_validate({"batch": [{"user_id": "u", "event": "e"}]})


def test_properties_with_empty_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="properties"):
        TrackBody.model_validate({"user_id": "u", "event": "e", "properties": {"": 1}})


def test_the_quota_resets_at_midnight_utc() -> None:
    assert seconds_until_next_day(NOW) == 30
    assert seconds_until_next_day(datetime(2026, 11, 16, tzinfo=UTC)) == 86_400


def test_popularity_ranks_by_users_then_interactions() -> None:
    ranking = popular_items([{"a": 1, "b": 5}, {"a": 2, "c": 1}, {"b": 1, "zero": 0}])

    assert [(i.item_id, i.score) for i in ranking] == [("b", 2.0), ("a", 2.0), ("c", 1.0)]
    assert item_of({"product_id": 7}) == "7" and item_of({"item_id": True}) is None


def test_the_webhooks_openapi_documents_the_tracking_routes() -> None:
    from tests.unit.web.test_openapi import _properties, spec

    document = spec("webhooks")
    schemas = document["components"]["schemas"]

    assert {"/v1/track", "/v1/identify", "/v1/batch", "/v1/recommendations/{user_id}"} <= set(
        document["paths"]
    )
    assert _properties(schemas["TrackBody"]) == _properties(TrackBody.model_json_schema())
