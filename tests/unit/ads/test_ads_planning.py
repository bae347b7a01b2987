"""The ad manager's arithmetic: budget splits, campaign drafts and the daily review."""

from __future__ import annotations

from datetime import date

import pytest

from shared.ads.models import Audience, DailyPerformance, PublishedCampaign, campaign_key
from shared.ads.planning import AdCopy, AdPolicy, draft_campaign, review_budgets, split_budget
from shared.core.agent_settings import bundled_policy


def policy(**values: object) -> AdPolicy:
    return AdPolicy.from_values({**bundled_policy("ad_manager").values, **values})


COPY = AdCopy(
    headline_a="Ready when you are",
    body_a="Pick up where you left off.",
    headline_b="See what fits",
    body_b="Compare plans in minutes.",
    call_to_action="Learn more",
)


def test_budget_splits_by_platform_share_then_audience_size() -> None:
    budgets = split_budget(
        policy(daily_budget_cents=10_000), {"pricing-intent": 300, "engaged-shoppers": 100}
    )

    assert budgets[("google_ads", "pricing-intent")] == 3750  # 10,000 x 0.5 x 3/4
    assert budgets[("google_ads", "engaged-shoppers")] == 1250
    assert budgets[("meta", "pricing-intent")] == 2250  # x 0.3 x 3/4
    assert budgets[("linkedin", "engaged-shoppers")] == 500  # x 0.2 x 1/4: exactly the floor
    assert sum(budgets.values()) == 10_000


def test_shares_below_the_floor_and_empty_or_untargeted_segments_are_not_drafted() -> None:
    budgets = split_budget(
        policy(daily_budget_cents=10_000, min_campaign_budget_cents=600),
        {"pricing-intent": 300, "engaged-shoppers": 100, "dormant-customers": 5_000},
    )

    assert ("linkedin", "engaged-shoppers") not in budgets  # 500 < 600
    assert all(segment != "dormant-customers" for _, segment in budgets)  # not a target
    assert split_budget(policy(), {"pricing-intent": 0}) == {}


def test_a_draft_carries_its_key_in_its_name_and_both_variants() -> None:
    audience = Audience(segment="pricing-intent", size=42)

    draft = draft_campaign(
        run_id="run-1",
        platform="meta",
        audience=audience,
        daily_budget_cents=2500,
        copy=COPY,
        policy=policy(),
    )

    assert draft.campaign_key == campaign_key("run-1", "meta", "pricing-intent")
    assert draft.campaign_key in draft.name
    assert [c.variant for c in draft.creatives] == ["A", "B"]
    assert draft.creatives[1].headline == "See what fits"
    assert draft_campaign(
        run_id="run-1", platform="meta", audience=audience, daily_budget_cents=1, copy=COPY,
        policy=policy(),
    ).campaign_key == draft.campaign_key  # fmt: skip
    assert campaign_key("run-2", "meta", "pricing-intent") != draft.campaign_key


def published(key: str, budget: int, platform: str = "meta") -> PublishedCampaign:
    return PublishedCampaign(
        campaign_key=key,
        platform=platform,  # type: ignore[arg-type]
        external_id=f"ext-{key}",
        status="active",
        daily_budget_cents=budget,
    )


def figures(key: str, spend: int, value: int, day: int = 1) -> DailyPerformance:
    return DailyPerformance(
        campaign_key=key,
        platform="meta",
        external_id=f"ext-{key}",
        day=date(2026, 11, day),
        impressions=10_000,
        clicks=200,
        conversions=10,
        spend_cents=spend,
        conversion_value_cents=value,
    )


def test_review_moves_part_of_each_underperformers_budget_to_the_best_campaign() -> None:
    campaigns = [published("cmp-good01", 4000), published("cmp-bad001", 2000),
                 published("cmp-weak01", 1000)]  # fmt: skip
    performance = [
        figures("cmp-good01", 3000, 9000),  # ROAS 3
        figures("cmp-good01", 3000, 9000, day=2),
        figures("cmp-bad001", 5000, 2000),  # ROAS 0.4
        figures("cmp-weak01", 2500, 2000),  # ROAS 0.8
    ]

    review = review_budgets(campaigns, performance, policy(cut_fraction=0.3, max_increase=0.5))

    assert [u.campaign_key for u in review.underperformers] == ["cmp-bad001", "cmp-weak01"]
    changes = {c.campaign_key: (c.from_cents, c.to_cents) for c in review.changes}
    assert changes == {
        "cmp-bad001": (2000, 1400),
        "cmp-weak01": (1000, 700),
        "cmp-good01": (4000, 4900),  # takes exactly what was cut
    }
    assert "ROAS 0.40 below the floor 1.00" in review.underperformers[0].reason


def test_review_never_grows_the_best_beyond_its_cap_nor_judges_small_spenders() -> None:
    campaigns = [published("cmp-good01", 1000), published("cmp-bad001", 10_000),
                 published("cmp-tiny01", 5000)]  # fmt: skip
    performance = [
        figures("cmp-good01", 3000, 9000),
        figures("cmp-bad001", 5000, 100),
        figures("cmp-tiny01", 500, 0),  # spent less than min_spend_cents: not judged
    ]

    review = review_budgets(campaigns, performance, policy(min_spend_cents=2000, max_increase=0.5))

    assert [u.campaign_key for u in review.underperformers] == ["cmp-bad001"]
    changes = {c.campaign_key: (c.from_cents, c.to_cents) for c in review.changes}
    assert changes == {"cmp-bad001": (10_000, 9500), "cmp-good01": (1000, 1500)}


@pytest.mark.parametrize(
    "performance",
    [
        [],  # no figures yet
        [figures("cmp-good01", 3000, 9000)],  # nobody underperforms
        [figures("cmp-bad001", 5000, 100)],  # nobody to give the budget to
    ],
)
def test_review_proposes_nothing_without_both_a_loser_and_a_winner(
    performance: list[DailyPerformance],
) -> None:
    campaigns = [published("cmp-good01", 1000), published("cmp-bad001", 10_000)]

    assert review_budgets(campaigns, performance, policy()).changes == ()


def test_paused_campaigns_and_figures_of_unknown_campaigns_are_ignored() -> None:
    paused = published("cmp-bad001", 2000).model_copy(update={"status": "paused"})
    performance = [figures("cmp-good01", 3000, 9000), figures("cmp-bad001", 5000, 100),
                   figures("cmp-other1", 5000, 0)]  # fmt: skip

    review = review_budgets([published("cmp-good01", 1000), paused], performance, policy())

    assert review.underperformers == ()
    assert review.funnels is not None
    assert [c.channel for c in review.funnels.channels] == ["cmp-good01"]


def test_the_shares_add_up_to_the_daily_budget_to_the_cent() -> None:
    budgets = split_budget(policy(daily_budget_cents=15_000), {"pricing-intent": 4,
                                                              "engaged-shoppers": 3})  # fmt: skip

    assert sum(budgets.values()) == 15_000
    assert budgets[("meta", "pricing-intent")] == 2572  # 4,500 x 4/7 = 2,571.4, + the cent lost
