"""What the ad manager drafts, publishes and reads back, the same for every platform."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.core.models import stable_id

Platform = Literal["google_ads", "meta", "linkedin"]
PLATFORMS: tuple[Platform, ...] = ("google_ads", "meta", "linkedin")
CAMPAIGN_KEY = r"^[a-z0-9][a-z0-9-]{5,62}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Creative(_Frozen):
    """One ad's words; a campaign carries A/B variants of it."""

    variant: str = Field(pattern=r"^[A-Z]$")
    headline: str = Field(min_length=1, max_length=90)
    body: str = Field(min_length=1, max_length=600)
    call_to_action: str = Field(min_length=1, max_length=30)
    landing_url: str = Field(pattern=r"^https?://")


class Audience(_Frozen):
    """Who sees the ads: one of our segments, as the platform is told to target it."""

    segment: str = Field(min_length=1)
    description: str = ""
    size: int = Field(ge=0)  # members of the segment when the campaign was drafted


class CampaignDraft(_Frozen):
    """A campaign as the ad manager proposes it, before anyone approved it."""

    campaign_key: str = Field(pattern=CAMPAIGN_KEY)  # ours; stable across retries
    platform: Platform
    name: str = Field(min_length=1, max_length=120)  # carries the key, so it can be looked up
    objective: Literal["traffic", "leads", "conversions"] = "conversions"
    daily_budget_cents: int = Field(gt=0)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    audience: Audience
    creatives: tuple[Creative, ...] = Field(min_length=1)


class PublishedCampaign(_Frozen):
    """A campaign as the platform holds it."""

    campaign_key: str
    platform: Platform
    external_id: str = Field(min_length=1)  # the platform's id (Google resource name, Meta id, URN)
    status: Literal["active", "paused"]
    daily_budget_cents: int = Field(gt=0)


class BudgetChange(_Frozen):
    """Move one published campaign's daily budget (a proposal until approved)."""

    campaign_key: str
    platform: Platform
    external_id: str
    from_cents: int = Field(gt=0)
    to_cents: int = Field(gt=0)
    reason: str = ""


class DailyPerformance(_Frozen):
    """One campaign's figures on one day, as the platform reports them."""

    campaign_key: str
    platform: Platform
    external_id: str
    day: date
    impressions: int = Field(ge=0)
    clicks: int = Field(ge=0)
    conversions: float = Field(ge=0)
    spend_cents: int = Field(ge=0)
    conversion_value_cents: int = Field(ge=0)


def campaign_key(run_id: str, platform: str, segment: str) -> str:
    """The campaign key of one platform's campaign for one segment in one run."""
    return f"cmp-{stable_id('campaign', run_id, platform, segment, length=16)}"
