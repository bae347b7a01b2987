"""What the ad manager proposes, computed by code: budgets per platform and audience, campaign
drafts, and the daily review's budget moves (pure; no platform is called here).

The money rules are the policy's (shared/policies/ad_manager.yaml): a growth run splits its
daily budget across platforms by `platform_share`, then across audiences in proportion to
their size; a share below `min_campaign_budget_cents` is not drafted. The daily review judges
each published campaign on the last `lookback_days` of figures through the same channel
funnel analysis the marketing agent runs (CTR, CVR, CPA, ROAS, significance), flags those
that spent at least `min_spend_cents` with ROAS under `roas_floor`, and proposes moving
`cut_fraction` of each one's daily budget to the best campaign (capped at `max_increase` of
its budget). Every proposal waits for a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.ads.models import (
    PLATFORMS,
    Audience,
    BudgetChange,
    CampaignDraft,
    Creative,
    DailyPerformance,
    Platform,
    PublishedCampaign,
    campaign_key,
)
from shared.analytics.campaigns import CampaignRow, ChannelFunnelReport, channel_funnels


class AdPolicy(BaseModel):
    """The ad manager's policy values, validated."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    platforms: tuple[Platform, ...] = PLATFORMS
    platform_share: dict[Platform, float]
    daily_budget_cents: int = Field(gt=0)
    min_campaign_budget_cents: int = Field(gt=0)
    segments: tuple[str, ...] = Field(min_length=1)
    objective: str = "conversions"
    currency: str = "EUR"
    landing_url: str
    lookback_days: int = Field(default=7, ge=1, le=90)
    min_spend_cents: int = Field(default=0, ge=0)
    roas_floor: float = Field(default=1.0, ge=0)
    cut_fraction: float = Field(default=0.3, gt=0, le=1)
    max_increase: float = Field(default=0.5, gt=0)
    significance_alpha: float = Field(default=0.05, gt=0, lt=1)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> AdPolicy:
        """The policy from the agent settings' values (with a run's params on top)."""
        return cls.model_validate(dict(values))


def split_budget(
    policy: AdPolicy, audience_sizes: Mapping[str, int]
) -> dict[tuple[Platform, str], int]:
    """Daily budget (cents) per (platform, segment): by platform share, then audience size."""
    sizes = {s: audience_sizes.get(s, 0) for s in policy.segments if audience_sizes.get(s, 0) > 0}
    total_size = sum(sizes.values())
    budgets: dict[tuple[Platform, str], int] = {}
    if total_size == 0:
        return budgets
    for platform in policy.platforms:
        platform_cents = round(policy.daily_budget_cents * policy.platform_share.get(platform, 0.0))
        shares = {s: platform_cents * size // total_size for s, size in sizes.items()}
        # The cents lost to rounding go to the largest audience, so the shares add up.
        largest = max(sizes, key=lambda s: (sizes[s], s))
        shares[largest] += platform_cents - sum(shares.values())
        for segment, cents in shares.items():
            if cents >= policy.min_campaign_budget_cents:
                budgets[(platform, segment)] = cents
    return budgets


class AdCopy(BaseModel):
    """The words of one ad in two variants (what the model writes)."""

    headline_a: str = Field(min_length=1, max_length=90)
    body_a: str = Field(min_length=1, max_length=600)
    headline_b: str = Field(min_length=1, max_length=90)
    body_b: str = Field(min_length=1, max_length=600)
    call_to_action: str = Field(min_length=1, max_length=30)


def draft_campaign(
    *,
    run_id: str,
    platform: Platform,
    audience: Audience,
    daily_budget_cents: int,
    copy: AdCopy,
    policy: AdPolicy,
) -> CampaignDraft:
    """One platform's campaign for one audience, with the A/B creatives."""
    key = campaign_key(run_id, platform, audience.segment)
    creatives = tuple(
        Creative(
            variant=variant,
            headline=headline,
            body=body,
            call_to_action=copy.call_to_action,
            landing_url=policy.landing_url,
        )
        for variant, headline, body in (
            ("A", copy.headline_a, copy.body_a),
            ("B", copy.headline_b, copy.body_b),
        )
    )
    return CampaignDraft(
        campaign_key=key,
        platform=platform,
        name=f"controlroom {audience.segment} [{key}]",
        objective=policy.objective,  # type: ignore[arg-type]
        daily_budget_cents=daily_budget_cents,
        currency=policy.currency,
        audience=audience,
        creatives=creatives,
    )


class Underperformer(BaseModel):
    """A published campaign the review flags, and why."""

    model_config = ConfigDict(frozen=True)
    campaign_key: str
    platform: Platform
    spend_cents: int
    revenue_cents: int
    roas: float | None
    reason: str


class BudgetReview(BaseModel):
    """What the daily review found and proposes."""

    model_config = ConfigDict(frozen=True)
    funnels: ChannelFunnelReport | None
    underperformers: tuple[Underperformer, ...] = ()
    changes: tuple[BudgetChange, ...] = ()
    summary: str


def campaign_rows(performance: Sequence[DailyPerformance]) -> list[CampaignRow]:
    """The platforms' daily figures as the channel analysis reads them (one channel per
    campaign; conversions rounded down, clicks and conversions never above what precedes them)."""
    rows = []
    for day in performance:
        clicks = min(day.clicks, day.impressions)
        rows.append(
            CampaignRow(
                channel=day.campaign_key,
                impressions=day.impressions,
                clicks=clicks,
                conversions=min(int(day.conversions), clicks),
                spend_cents=day.spend_cents,
                revenue_cents=day.conversion_value_cents,
            )
        )
    return rows


def review_budgets(
    published: Sequence[PublishedCampaign],
    performance: Sequence[DailyPerformance],
    policy: AdPolicy,
) -> BudgetReview:
    """Flag underperforming published campaigns and propose moving part of their budgets."""
    active = {c.campaign_key: c for c in published if c.status == "active"}
    rows = [r for r in campaign_rows(performance) if r.channel in active]
    if not rows:
        return BudgetReview(funnels=None, summary="no figures for published campaigns yet")
    funnels = channel_funnels(rows, alpha=policy.significance_alpha)
    judged = [f for f in funnels.channels if f.spend_cents >= policy.min_spend_cents]
    under = [f for f in judged if f.roas is None or f.roas < policy.roas_floor]
    good = [f for f in judged if f.roas is not None and f.roas >= policy.roas_floor]
    flagged = tuple(
        Underperformer(
            campaign_key=f.channel,
            platform=active[f.channel].platform,
            spend_cents=f.spend_cents,
            revenue_cents=f.revenue_cents,
            roas=f.roas,
            reason=(
                f"ROAS {f.roas:.2f} below the floor {policy.roas_floor:.2f} on "
                f"{f.spend_cents / 100:.2f} spent in {policy.lookback_days} days"
                if f.roas is not None
                else f"no revenue on {f.spend_cents / 100:.2f} spent"
            ),
        )
        for f in sorted(under, key=lambda f: (f.roas or 0.0, f.channel))
    )
    if not flagged or not good:
        why = "no campaign clears the floor to take the budget" if flagged else "none flagged"
        return BudgetReview(
            funnels=funnels,
            underperformers=flagged,
            summary=f"{len(judged)} campaign(s) judged, {len(flagged)} underperforming; {why}",
        )
    best = max(good, key=lambda f: (f.roas or 0.0, f.channel))
    target = active[best.channel]
    changes: list[BudgetChange] = []
    room = int(target.daily_budget_cents * policy.max_increase)
    moved = 0
    for item in flagged:
        campaign = active[item.campaign_key]
        cut = min(int(campaign.daily_budget_cents * policy.cut_fraction), room - moved)
        if cut <= 0 or campaign.daily_budget_cents - cut <= 0:
            continue
        moved += cut
        changes.append(
            BudgetChange(
                campaign_key=campaign.campaign_key,
                platform=campaign.platform,
                external_id=campaign.external_id,
                from_cents=campaign.daily_budget_cents,
                to_cents=campaign.daily_budget_cents - cut,
                reason=item.reason,
            )
        )
    if moved:
        changes.append(
            BudgetChange(
                campaign_key=target.campaign_key,
                platform=target.platform,
                external_id=target.external_id,
                from_cents=target.daily_budget_cents,
                to_cents=target.daily_budget_cents + moved,
                reason=f"best ROAS {best.roas:.2f}: takes {moved / 100:.2f}/day from the flagged",
            )
        )
    return BudgetReview(
        funnels=funnels,
        underperformers=flagged,
        changes=tuple(changes),
        summary=(
            f"{len(judged)} campaign(s) judged, {len(flagged)} underperforming; proposed moving "
            f"{moved / 100:.2f}/day to {target.campaign_key} (ROAS {best.roas:.2f})"
        ),
    )
