"""POST /v1/content through the webhooks function on the emulators: copy variants from a brief,
grounded in the help centre, distinct per angle, through the copy check, within the key's
quota, and refused with a clear 4xx when the brief or the key is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import flask
import pytest

from shared.adapters.firestore_kb import FirestoreKnowledgeStore
from shared.core.copy_check import copy_problems
from shared.kb.ingest import ingest_directory
from shared.tracking.firestore import FirestoreQuota
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client
from tests.helpers.status_client import clear_settings_caches

pytestmark = pytest.mark.integration

ARTICLES = Path(__file__).resolve().parents[2] / "kb" / "articles"
KEY = "content-key-0123456789abcdef"
TINY_KEY = "tiny-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
BRIEF = {
    "product": "gift cards",
    "audience": "people buying a last-minute present",
    "channel": "social",
    "variants": 3,
}


@pytest.fixture
def webhooks(
    clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch
) -> Iterator[flask.testing.FlaskClient]:
    keys = {"web": {"key": KEY, "tier": "pro"}, "tiny": {"key": TINY_KEY, "tier": "tiny"}}
    monkeypatch.setenv("CONTROLROOM_TRACKING_KEYS", json.dumps(keys))
    monkeypatch.setenv("CONTROLROOM_TRACKING_TIER_QUOTAS", json.dumps({"pro": 100000, "tiny": 150}))
    clear_settings_caches()
    ingest_directory(ARTICLES, FirestoreKnowledgeStore(clean_emulators.project))
    yield function_client("webhooks", "handle_webhook", "http")
    monkeypatch.undo()
    clear_settings_caches()


def test_a_brief_gets_distinct_clean_variants_grounded_in_the_help_centre(
    webhooks: flask.testing.FlaskClient,
) -> None:
    answer = webhooks.post("/v1/content", json=BRIEF, headers=AUTH)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    variants = body["variants"]
    assert len(variants) == 3
    assert len({v["headline"] for v in variants}) == 3  # one angle each
    for variant in variants:
        for text in variant.values():
            assert copy_problems(text) == []
    assert "gift-cards.html" in [s["source"] for s in body["sources"]]
    assert any("gift card" in v["body"].lower() for v in variants)
    assert body["offline"] is True and body["usage"]["calls"] == 3
    assert body["usage"]["cost_usd"] == 0


@pytest.mark.parametrize(
    ("brief", "field"),
    [
        ({**BRIEF, "channel": "fax"}, "channel"),
        ({**BRIEF, "variants": 9}, "variants"),
        ({**BRIEF, "budget": 5}, "budget"),
        ({key: value for key, value in BRIEF.items() if key != "product"}, "product"),
    ],
)
def test_a_bad_brief_is_a_400_naming_the_field(
    webhooks: flask.testing.FlaskClient, brief: dict[str, object], field: str
) -> None:
    answer = webhooks.post("/v1/content", json=brief, headers=AUTH)

    assert answer.status_code == 400 and field in answer.get_json()["error"]


def test_a_request_needs_a_key_and_counts_against_its_quota(
    webhooks: flask.testing.FlaskClient, clean_emulators: Emulators
) -> None:
    tiny = {"Authorization": f"Bearer {TINY_KEY}"}
    assert webhooks.post("/v1/content", json=BRIEF).status_code == 401

    first = webhooks.post("/v1/content", json=BRIEF, headers=tiny)
    second = webhooks.post("/v1/content", json=BRIEF, headers=tiny)

    assert first.status_code == 200  # 100 of the tiny tier's 150 events today
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
    assert "content request (100 events)" in second.get_json()["error"]
    used = FirestoreQuota(clean_emulators.project).used("tiny", datetime.now(UTC).date())
    assert used == 100  # the refused request is not counted
