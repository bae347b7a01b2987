"""The growth and ad-performance handlers on the emulators: leads, campaigns, budgets.

The ad platforms are their local twins (Firestore), the enrichment provider the bundled
twin wrapped to count calls; everything else is the real adapters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.ads.firestore import FirestoreAdCampaigns
from shared.ads.local_twin import TWIN_CAMPAIGNS, LocalAdPlatform
from shared.ads.models import PLATFORMS, CampaignDraft
from shared.ads.ports import AdPorts
from shared.agents import ad_steps as ads
from shared.agents import lead_steps as leads
from shared.agents.steps import StepContext
from shared.core.agent_settings import resolve_agent_settings
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.leads.firestore import LEADS, FirestoreLeads
from shared.leads.ports import LeadPorts
from shared.llm.offline import OfflineLLM
from shared.tracking.firestore import FirestoreRecommendations
from shared.tracking.firestore_segments import FirestoreSegments
from shared.tracking.membership import refresh_all_segments
from shared.tracking.recommendations import refresh_recommendations
from shared.tracking.segments import bundled_segments
from tests.helpers.fakes.counting_enricher import CountingEnricher

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TODAY = NOW.date().isoformat()


def seed_profiles(store: FirestoreStore) -> None:
    """Three people: a keen prospect at Acme, a keen one on free mail, a paying customer."""
    people: dict[str, dict[str, Any]] = {
        "ann": {"traits": {"plan": "free", "email": "ann@acme.test"},
                "daily": {TODAY: {"Viewed Pricing": 3, "Added to Cart": 3}}},
        "bob": {"traits": {"plan": "free", "email": "bob@gmail.com"},
                "daily": {TODAY: {"Viewed Pricing": 2}}},
        "cy": {"traits": {"plan": "pro", "email": "cy@globex.test"},
               "daily": {TODAY: {"Viewed Pricing": 5}}},
    }  # fmt: skip
    for user, doc in people.items():
        counters: dict[str, int] = {}
        for names in doc["daily"].values():
            for name, n in names.items():
                counters[name] = counters.get(name, 0) + n
        store.client.collection("profiles").document(user).set({**doc, "counters": counters})


def context(store: FirestoreStore, enricher: CountingEnricher) -> StepContext:
    project = store.client.project
    segments = FirestoreSegments(project, client=store.client)
    lead_ports = LeadPorts(
        enricher=enricher,
        leads=FirestoreLeads(project, client=store.client),
        segments=segments,
        refresh_segments=lambda: refresh_all_segments(
            catalog=bundled_segments(), store=segments, bus=PubSubBus(project), clock=lambda: NOW
        ),
        refresh_recommendations=lambda: refresh_recommendations(
            FirestoreRecommendations(project, client=store.client)
        ),
    )
    ad_ports = AdPorts(
        platforms={p: LocalAdPlatform(p, project, client=store.client, clock=lambda: NOW)
                   for p in PLATFORMS},
        store=FirestoreAdCampaigns(project, client=store.client),
    )  # fmt: skip
    return StepContext(
        data=None,  # type: ignore[arg-type]
        llm=OfflineLLM,
        settings=resolve_agent_settings,
        store=store,
        email=lambda: None,
        clock=lambda: NOW,
        on_step=lambda step, detail: None,
        leads=lambda: lead_ports,
        ads=lambda: ad_ports,
    )


def task(step: str, task_id: str, agent: str, **params: Any) -> AgentTask:
    return AgentTask(run_id="growth-1", task_id=task_id, agent=agent, workflow="growth",
                     step=step, params=params)  # fmt: skip


def test_leads_are_scored_from_fresh_segments_and_each_person_enriched_once(
    store: FirestoreStore,
) -> None:
    seed_profiles(store)
    enricher = CountingEnricher()
    ctx = context(store, enricher)

    refreshed = leads.refresh_growth_data(task("refresh", "refresh", "leads"), ctx)
    first = leads.score_leads(task("score", "score", "leads"), ctx)
    again = leads.score_leads(task("score", "score", "leads"), ctx)

    assert refreshed.output["segments"]["pricing-intent"] == 2  # cy pays: not in it
    assert refreshed.output["segments"]["engaged-shoppers"] == 1
    assert first.output["scored"] == 2
    assert sorted(enricher.calls) == ["ann@acme.test", "bob@gmail.com"]  # asked once each
    assert again.output == first.output | {"enriched": 0}
    top = first.output["top"]
    assert [t["user_id"] for t in top] == ["ann", "bob"]
    assert top[0]["company"] == "Acme Analytics"
    assert "Company of 250 employees (mid-market, +45)" in top[0]["reasons"]
    assert "In the engaged-shoppers segment (+10)" in top[0]["reasons"]
    stored = store.client.collection(LEADS).document("ann").get().to_dict() or {}
    assert stored["grade"] == top[0]["grade"] and stored["run_id"] == "growth-1"
    assert stored["enrichment"]["company_name"] == "Acme Analytics"
    assert first.output["note"]  # the offline provider's hand-off note


def test_an_approved_campaign_is_created_once_even_across_a_crash_and_a_redelivery(
    store: FirestoreStore,
) -> None:
    ctx = context(store, CountingEnricher())
    audiences = [{"segment": "pricing-intent", "title": "Pricing", "size": 30},
                 {"segment": "engaged-shoppers", "title": "Shoppers", "size": 10}]  # fmt: skip
    drafted = ads.draft_campaigns(
        task("draft", "draft-meta", "ads", platform="meta", audiences=audiences, brief="Trial"),
        ctx,
    )
    campaigns = [CampaignDraft.model_validate(c) for c in drafted.output["campaigns"]]
    twin = store.client.collection(TWIN_CAMPAIGNS)
    assert [c.audience.segment for c in campaigns] == ["engaged-shoppers", "pricing-intent"]
    assert sum(c.daily_budget_cents for c in campaigns) == 4500  # 15,000 x 0.3 (meta)
    assert list(twin.stream()) == []  # drafting publishes nothing
    words = " ".join(
        f"{a.headline} {a.body}" for c in campaigns for a in c.creatives
    )  # fmt: skip
    assert "Pricing" not in words and "Shoppers" not in words and "30" not in words

    first = campaigns[1]
    publish = task("publish", f"publish-{first.campaign_key}", "ads",
                   campaign=first.model_dump(mode="json"))  # fmt: skip
    # A first attempt that created the campaign and died before recording it:
    store.begin_effect("growth-1", f"publish-{first.campaign_key}", NOW)
    LocalAdPlatform("meta", store.client.project, client=store.client).create_campaign(first)

    ads.publish_campaign(publish, ctx)
    ads.publish_campaign(publish, ctx)  # a redelivery

    created = [d.to_dict() for d in twin.stream()]
    assert len(created) == 1 and created[0]["campaign_key"] == first.campaign_key
    record = FirestoreAdCampaigns(store.client.project, client=store.client).get(first.campaign_key)
    assert record is not None and record["status"] == "published"
    assert record["external_id"] == created[0]["external_id"]


def test_ad_copy_that_shows_how_the_audience_was_chosen_fails_the_step(
    store: FirestoreStore,
) -> None:
    ctx = context(store, CountingEnricher())
    rule = "viewed pricing twice in 7 days"
    audiences = [{"segment": "pricing-intent", "title": rule, "ad_angle": rule, "size": 30}]

    with pytest.raises(PermanentError, match="fails the copy check: headline_a: how the audience"):
        ads.draft_campaigns(
            task("draft", "draft-meta", "ads", platform="meta", audiences=audiences), ctx
        )
    assert list(store.client.collection(TWIN_CAMPAIGNS).stream()) == []


def test_performance_is_pulled_judged_and_an_approved_budget_is_set_once(
    store: FirestoreStore,
) -> None:
    ctx = context(store, CountingEnricher())
    audiences = [
        {"segment": "pricing-intent", "size": 30},
        {"segment": "engaged-shoppers", "size": 30},
    ]
    for platform in PLATFORMS:
        drafted = ads.draft_campaigns(
            task("draft", f"draft-{platform}", "ads", platform=platform, audiences=audiences), ctx
        )
        for campaign in drafted.output["campaigns"]:
            ads.publish_campaign(
                task("publish", f"publish-{campaign['campaign_key']}", "ads", campaign=campaign),
                ctx,
            )
    day = TODAY  # the twin reports a campaign from the day it was created

    pulled = [ads.pull_performance(task("pull", f"pull-{p}", "ads", platform=p, day=day), ctx)
              for p in PLATFORMS]  # fmt: skip
    review = ads.review_campaigns(task("review", "review", "ads", day=day), ctx)

    assert sum(p.output["campaigns"] for p in pulled) == 6
    flagged = {u["campaign_key"] for u in review.output["underperformers"]}
    changes = review.output["changes"]
    assert flagged and changes  # the twin's google_ads/pricing and linkedin/shoppers lose money
    assert {c["campaign_key"] for c in changes[:-1]} == flagged
    assert changes[-1]["to_cents"] > changes[-1]["from_cents"]  # the best one takes the cuts
    assert sum(c["to_cents"] - c["from_cents"] for c in changes) == 0

    change = changes[0]
    apply = task("apply", f"budget-{change['campaign_key']}", "ads", change=change)
    ads.apply_budget_change(apply, ctx)
    ads.apply_budget_change(apply, ctx)  # a redelivery

    twin = (s.to_dict() or {} for s in store.client.collection(TWIN_CAMPAIGNS).stream())
    histories = {d["campaign_key"]: d["budget_history"] for d in twin}
    assert len(histories[change["campaign_key"]]) == 1
    assert histories[change["campaign_key"]][0]["to_cents"] == change["to_cents"]
    assert sum(len(h) for h in histories.values()) == 1  # nothing else moved
