"""Agent settings on the status page: every edit is a new version in Firestore (never an
overwrite), agents run with it, stale or broken edits are refused, and who saved it is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.core.agent_settings import (
    bundled_agents,
    bundled_policy,
    bundled_prompts,
    resolve_agent_settings,
)
from tests.conftest import Emulators
from tests.helpers.status_client import (
    BROWSER,
    clear_settings_caches,
    form_value,
    sign_in,
    status_client,
)

pytestmark = pytest.mark.integration

ALICE = "alice-act-token-0001"
DASH = "dash-read-token-0001"


@pytest.fixture
def store(clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[FirestoreStore]:
    tokens = {"alice": f"act:{ALICE}", "dash": f"read:{DASH}"}
    monkeypatch.setenv("CONTROLROOM_STATUS_TOKENS", json.dumps(tokens))
    clear_settings_caches()
    yield FirestoreStore(clean_emulators.project)
    monkeypatch.undo()
    clear_settings_caches()


def _versions(store: FirestoreStore, agent: str) -> dict[str, dict[str, Any]]:
    ref = store.client.collection("agent_settings").document(agent).collection("versions")
    return {doc.id: doc.get().to_dict() or {} for doc in ref.list_documents()}


def test_every_agent_is_listed_with_the_versions_it_runs(store: FirestoreStore) -> None:
    body = status_client(DASH).get("/api/agents").get_json()
    finance = status_client(DASH).get("/api/agents/finance").get_json()

    assert [row["agent"] for row in body["agents"]] == list(bundled_agents())
    row = next(r for r in body["agents"] if r["agent"] == "finance")
    assert (row["policy_version"], row["policy_source"]) == (
        bundled_policy("finance").version,
        "bundled",
    )
    assert finance["policy"]["values"] == bundled_policy("finance").values
    assert finance["history"] == []
    assert status_client(DASH).get("/api/agents/legal").status_code == 404


def test_an_edit_creates_a_new_version_that_agents_run_with(store: FirestoreStore) -> None:
    alice = status_client(ALICE)
    bundled = bundled_policy("finance")

    first = alice.post(
        "/api/agents/finance/policy",
        json={
            "base_version": bundled.version,
            "values.gross_margin": 0.6,
            "comment": "new supplier",
        },
    )
    stale = alice.post(
        "/api/agents/finance/policy",
        json={"base_version": bundled.version, "values.gross_margin": 0.7},
    )
    second = alice.post(
        "/api/agents/finance/policy",
        json={
            "base_version": bundled.version + 1,
            "values.forecast_horizon_months": "6",
        },
    )

    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {
        "agent": "finance",
        "kind": "policy",
        "version": bundled.version + 1,
        "label": f"finance/v{bundled.version + 1} (override)",
    }
    assert stale.status_code == 409 and "reload the page" in stale.get_json()["error"]
    assert second.status_code == 200 and second.get_json()["version"] == bundled.version + 2
    saved = _versions(store, "finance")
    v1, v2 = f"policy-v{bundled.version + 1}", f"policy-v{bundled.version + 2}"
    assert sorted(saved) == [v1, v2]
    assert saved[v1]["content"]["values"] == {**bundled.values, "gross_margin": 0.6}  # unchanged
    assert (saved[v1]["created_by"], saved[v1]["comment"]) == ("alice", "new supplier")
    assert saved[v1]["based_on"] == f"finance/v{bundled.version} (bundled)"
    assert saved[v2]["content"]["values"] == {
        **bundled.values,
        "gross_margin": 0.6,
        "forecast_horizon_months": 6,
    }
    settings = resolve_agent_settings("finance", store)
    assert settings.policy.values["forecast_horizon_months"] == 6
    assert settings.versions()["policy"] == f"finance/v{bundled.version + 2} (override)"
    assert settings.prompts_source == "bundled"  # the other kind is untouched
    audit = [d.get().to_dict() or {} for d in store.client.collection("audit").list_documents()]
    assert sorted((a["who"], a["action"], a["details"]["version"]) for a in audit) == [
        ("alice", "agent_settings.policy", bundled.version + 1),
        ("alice", "agent_settings.policy", bundled.version + 2),
    ]


@pytest.mark.parametrize(
    ("kind", "fields", "status", "message"),
    [
        (
            "prompts",
            {"headline": "MRR {{ mrr_cents | eur }"},
            400,
            "headline: not a valid template",
        ),
        ("prompts", {"headline": "MRR {{ mrr_cents | euros }}"}, 400, "No filter named 'euros'"),
        ("prompts", {"surprise": "x"}, 400, "surprise: not a field of finance's prompts"),
        ("prompts", {"tier": "genius"}, 400, "tier"),
        ("policy", {"values.gross_margin": "lots"}, 400, "must be a number, not 'lots'"),
        ("policy", {"values.forecast_horizon_months": 2.5}, 400, "must be a whole number"),
        ("policy", {"values.discount": 3}, 400, "values.discount: not a value of"),
        ("policy", {}, 400, "nothing changed"),
        ("policy", {"base_version": "x"}, 400, "base_version"),
    ],
)
def test_a_broken_edit_is_refused_and_saves_nothing(
    store: FirestoreStore, kind: str, fields: dict[str, object], status: int, message: str
) -> None:
    bundled = bundled_prompts("finance") if kind == "prompts" else bundled_policy("finance")
    base = {"base_version": bundled.version}  # the version the editor saw
    response = status_client(ALICE).post(f"/api/agents/finance/{kind}", json={**base, **fields})

    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert _versions(store, "finance") == {}


def test_a_read_token_cannot_edit(store: FirestoreStore) -> None:
    response = status_client(DASH).post(
        "/api/agents/finance/policy", json={"base_version": 2, "values.gross_margin": 0.6}
    )

    assert response.status_code == 403 and _versions(store, "finance") == {}


def test_a_person_edits_prompts_in_the_form_and_sees_the_history(store: FirestoreStore) -> None:
    browser = status_client(token=None)
    csrf = sign_in(browser, ALICE)
    page = browser.get("/agents/finance", headers=BROWSER).get_data(as_text=True)
    headline = "Revenue <b>{{ latest_revenue_cents | eur }}</b>"

    saved = browser.post(
        "/agents/finance/prompts",
        headers=BROWSER,
        data={
            "csrf_token": csrf,
            "base_version": form_value(page, "base_version"),
            "headline": headline,
            "system": "You are the CFO.\r\nBe brief.",
            "comment": "shorter",
        },
    )
    after = browser.get("/agents/finance", headers=BROWSER).get_data(as_text=True)

    assert saved.status_code == 303 and saved.headers["Location"] == "/agents/finance#history"
    settings = resolve_agent_settings("finance", store)
    assert settings.prompts.headline == headline
    assert settings.prompts.system == "You are the CFO.\nBe brief."  # browser newlines
    edited = bundled_prompts("finance").version + 1
    assert settings.versions()["prompts"] == f"finance/v{edited} (override)"
    assert f"prompts v{edited} by <strong>alice</strong>" in after and ": shorter" in after
    assert "+headline: Revenue &lt;b&gt;" in after  # the diff, escaped
    assert f'name="base_version" value="{edited}"' in after
