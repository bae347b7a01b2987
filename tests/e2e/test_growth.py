"""Growth in the local cloud: the host app's events become segments, scored leads and ad
campaigns, and no campaign or budget changes until a person approves it.

The ad platforms are their Firestore twins, which (like the real platforms) create a second
campaign when asked twice: every "once" below is counted on the twin, not assumed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from controlroom.sdk import Client
from emulators.cloud import LocalCloud
from shared.adapters.firestore_store import FirestoreStore
from shared.ads.local_twin import TWIN_CAMPAIGNS
from shared.core.models import RunStatus
from shared.tracking.firestore_segments import FirestoreSegments
from tests.conftest import Emulators
from tests.e2e.conftest import running_cloud, start_run_via_api, wait_for_run
from tests.e2e.test_winback import AUTH, _republish, decide, wait_for_approval
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e

KEY = "e2e-growth-key-0123456789"
PROSPECTS = {"ann": "acme.test", "bob": "globex.test", "cy": "initech.test", "dee": "gmail.com"}
SHOPPERS = ("eve", "fay", "gus")


@pytest.fixture(scope="module")
def growth_cloud(
    emulators: Emulators, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCloud]:
    keys = json.dumps({"e2e": {"key": KEY, "tier": "pro"}})
    yield from running_cloud(
        emulators, tmp_path_factory, function_env={"webhooks": {"CONTROLROOM_TRACKING_KEYS": keys}}
    )


def twin_campaigns(store: FirestoreStore) -> list[dict[str, Any]]:
    """Every campaign the platforms' twins hold."""
    return [s.to_dict() or {} for s in store.client.collection(TWIN_CAMPAIGNS).stream()]


def send_behaviour(cloud: LocalCloud, store: FirestoreStore) -> None:
    """Four prospects who viewed pricing twice on the free plan, three keen shoppers."""
    client = Client(KEY, cloud.functions["webhooks"].url, batch_size=50)
    for user, domain in PROSPECTS.items():
        client.identify(user, {"plan": "free", "email": f"{user}@{domain}"})
    for user in SHOPPERS:
        client.identify(user, {"plan": "pro"})
    assert client.flush(timeout_s=30)
    segments = FirestoreSegments(store.client.project, client=store.client)
    wait_for(
        lambda: store.client.collection("profiles").count().get()[0][0].value == 7,
        30,
        "every user identified",
    )
    for user in PROSPECTS:
        for page in ("/pricing", "/pricing#plans"):
            client.track("Viewed Pricing", user_id=user, properties={"path": page})
    for user in SHOPPERS:
        for item in ("a", "b", "c"):
            client.track("Added to Cart", user_id=user, properties={"item_id": item})
    assert client.flush(timeout_s=30)
    client.shutdown()
    wait_for(
        lambda: (
            len(segments.members("pricing-intent")) == 4
            and len(segments.members("engaged-shoppers")) == 3
        ),
        30,
        "the segment memberships",
    )


def test_growth_proposes_campaigns_and_publishes_only_what_was_approved_once(
    growth_cloud: LocalCloud, emulators: Emulators
) -> None:
    emulators.reset()
    store = FirestoreStore(emulators.project)
    send_behaviour(growth_cloud, store)

    run_id = start_run_via_api(growth_cloud, workflow="growth")
    run = wait_for_approval(store, run_id, timeout_s=120)

    assert run.step == "approve"
    assert twin_campaigns(store) == []  # nothing reaches a platform before the decision
    proposal = httpx.get(
        f"{growth_cloud.status_url}/api/runs/{run_id}/approvals/approve", headers=AUTH, timeout=10
    ).json()["proposal"]
    campaigns = proposal["campaigns"]
    by_platform = Counter(c["platform"] for c in campaigns)
    assert by_platform == {"google_ads": 2, "meta": 2, "linkedin": 2}
    assert proposal["daily_budget_cents"] == 15_000
    assert proposal["leads"]["scored"] == 7  # 4 prospects + 3 shoppers (the pro plan drops fit)
    assert proposal["leads"]["top"][0]["company"] in {"Acme Analytics", "Globex Retail"}
    assert proposal["brief"]  # the marketing agent's
    assert all(len(c["creatives"]) == 2 for c in campaigns)
    page = httpx.get(f"{growth_cloud.status_url}/runs/{run_id}/approvals/approve", headers=AUTH,
                     timeout=10)  # fmt: skip
    assert page.status_code == 200 and campaigns[0]["campaign_key"] in page.text

    left_out, rebudgeted = campaigns[0]["campaign_key"], campaigns[1]["campaign_key"]
    assert f'name="budget.{rebudgeted}"' in page.text and 'type="checkbox"' in page.text
    # The page's form as a browser posts it: a ticked box and one daily budget typed in.
    form = {"decision": "approve", "comment": "go", "exclude": [left_out, ""],
            f"budget.{rebudgeted}": "12.34", f"budget.{left_out}": ""}  # fmt: skip
    answer = httpx.post(
        f"{growth_cloud.status_url}/runs/{run_id}/approvals/approve", data=form, headers=AUTH,
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    approval = store.get_approval(run_id, "approve")
    assert approval is not None
    assert approval.edits == {"exclude": [left_out], "budgets": {rebudgeted: 1234}}

    done = wait_for_run(store, run_id, timeout_s=120)
    assert done.status is RunStatus.SUCCEEDED, done.failure_reasons
    assert done.summary is not None and "5 published" in done.summary
    created = twin_campaigns(store)
    assert sorted(c["campaign_key"] for c in created) == sorted(
        c["campaign_key"] for c in campaigns if c["campaign_key"] != left_out
    )
    assert next(c for c in created if c["campaign_key"] == rebudgeted)["daily_budget_cents"] == 1234

    listed = httpx.get(f"{growth_cloud.status_url}/api/campaigns", headers=AUTH, timeout=10)
    statuses = Counter(c["status"] for c in listed.json()["campaigns"])
    assert statuses == {"published": 5, "drafted": 1}  # the one left out stays a draft
    leads = httpx.get(f"{growth_cloud.status_url}/api/leads", headers=AUTH, timeout=10).json()
    assert len(leads["leads"]) == 7 and leads["leads"][0]["reasons"]
    shown = {"leads": leads["leads"][0]["user_id"], "campaigns": rebudgeted}
    for page, expected in shown.items():
        html = httpx.get(f"{growth_cloud.status_url}/{page}", headers=AUTH, timeout=10)
        assert html.status_code == 200 and expected in html.text, page

    # Pub/Sub may deliver a publish task again: the twin would make a second campaign.
    agent = growth_cloud.pumps["agent-ads"]
    before = len(agent.records)
    assert _republish(store, run_id, "publish", 5) == 5
    wait_for(lambda: len(agent.records) >= before + 5, 60, "the redelivered publish tasks")
    assert len(twin_campaigns(store)) == 5


def test_budget_moves_wait_for_approval_and_a_rejection_changes_nothing(
    growth_cloud: LocalCloud, emulators: Emulators
) -> None:
    emulators.reset()
    store = FirestoreStore(emulators.project)
    today = {"day": date.today().isoformat()}

    nothing_yet = wait_for_run(store, start_run_via_api(growth_cloud, workflow="ad_performance",
                                                        params=today), timeout_s=90)  # fmt: skip
    assert nothing_yet.status is RunStatus.SUCCEEDED, nothing_yet.failure_reasons
    assert "step.skipped" in [e.type for e in store.list_events(nothing_yet.run_id)]

    send_behaviour(growth_cloud, store)
    growth = start_run_via_api(growth_cloud, workflow="growth")
    wait_for_approval(store, growth, timeout_s=120)
    assert decide(growth_cloud, growth, decision="approve").status_code == 202
    assert wait_for_run(store, growth, timeout_s=120).status is RunStatus.SUCCEEDED

    rejected = start_run_via_api(growth_cloud, workflow="ad_performance", params=today)
    proposal = wait_for_approval(store, rejected, timeout_s=90)
    assert proposal.step == "approve"
    assert decide(growth_cloud, rejected, decision="reject").status_code == 202
    assert wait_for_run(store, rejected).status is RunStatus.CANCELLED
    assert all(c["budget_history"] == [] for c in twin_campaigns(store))

    approved = start_run_via_api(growth_cloud, workflow="ad_performance", params=today)
    wait_for_approval(store, approved, timeout_s=90)
    changes = httpx.get(
        f"{growth_cloud.status_url}/api/runs/{approved}/approvals/approve", headers=AUTH, timeout=10
    ).json()["proposal"]["changes"]
    assert len(changes) >= 2  # at least one cut and the best campaign's raise
    assert decide(growth_cloud, approved, decision="approve").status_code == 202
    done = wait_for_run(store, approved, timeout_s=90)
    assert done.status is RunStatus.SUCCEEDED, done.failure_reasons
    moved = {c["campaign_key"]: c["budget_history"] for c in twin_campaigns(store)
             if c["budget_history"]}  # fmt: skip
    assert {k: h[0]["to_cents"] for k, h in moved.items()} == {
        c["campaign_key"]: c["to_cents"] for c in changes
    }
    assert all(len(h) == 1 for h in moved.values())
