"""The port every ad platform adapter implements (real HTTP clients and the local twin)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from shared.ads.models import CampaignDraft, DailyPerformance, Platform, PublishedCampaign


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
