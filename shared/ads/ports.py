"""The port every ad platform adapter implements (real HTTP clients and the local twin)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from shared.ads.models import (
    BudgetChange,
    CampaignDraft,
    DailyPerformance,
    Platform,
    PublishedCampaign,
)


class AdPlatform(Protocol):
    """One ad platform's account: create campaigns, change budgets, read daily figures.

    None of the three platforms takes an idempotency key on create, so callers look a
    campaign up by its key (carried in its name) before creating it, inside an effect record.
    """

    platform: Platform

    def find_campaign(self, campaign_key: str) -> PublishedCampaign | None:
        """The campaign created for this key, or None."""
        ...

    def create_campaign(self, draft: CampaignDraft) -> PublishedCampaign:
        """Create the campaign with its audience, creatives and daily budget, active."""
        ...

    def set_daily_budget(self, external_id: str, daily_budget_cents: int) -> PublishedCampaign:
        """Change a published campaign's daily budget."""
        ...

    def daily_performance(self, day: date) -> list[DailyPerformance]:
        """Every campaign's figures on `day` (the account's time zone)."""
        ...


class AdCampaignStore(Protocol):
    """Our records of the campaigns (drafted, published, re-budgeted) and their figures."""

    def save_drafts(self, run_id: str, drafts: Sequence[CampaignDraft]) -> None:
        """Record drafted campaigns; a published one keeps its state."""
        ...

    def mark_published(self, campaign: PublishedCampaign, *, run_id: str, at: datetime) -> None:
        """Record that the platform holds the campaign."""
        ...

    def record_budget(self, change: BudgetChange, *, run_id: str, at: datetime) -> None:
        """Record an applied budget change."""
        ...

    def published_campaigns(self) -> list[PublishedCampaign]:
        """Every campaign the platforms hold."""
        ...

    def list_campaigns(self, limit: int = 200) -> list[dict[str, Any]]:
        """Every campaign record, drafted or published (for the status page)."""
        ...

    def save_performance(self, rows: Sequence[DailyPerformance]) -> None:
        """Keep campaigns' figures of a day."""
        ...

    def performance_between(self, start: date, end: date) -> list[DailyPerformance]:
        """Every campaign's figures from `start` to `end`, both included."""
        ...


@dataclass(frozen=True)
class AdPorts:
    """What the ad manager's handlers use: each platform's account and our records."""

    platforms: Mapping[Platform, AdPlatform]
    store: AdCampaignStore
