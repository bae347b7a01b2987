"""Our records of the ad manager's campaigns and their daily figures, in Firestore.

Layout:
    ad_campaigns/{campaign_key}                      the draft and its run; once published,
                                                     status "published", the external id and
                                                     daily budget, and each budget change
    ad_performance/{platform}:{campaign_key}:{day}   one campaign's figures on one day; a
                                                     re-pull of the same day overwrites it
Each document is written by one task of one run, so none is hot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from shared.ads.models import BudgetChange, CampaignDraft, DailyPerformance, PublishedCampaign
from shared.gcp.firestore import FirestoreAdapter

CAMPAIGNS = "ad_campaigns"
PERFORMANCE = "ad_performance"
BATCH_LIMIT = 500


def performance_id(row: DailyPerformance) -> str:
    """ad_performance's document id of one campaign's day."""
    return f"{row.platform}:{row.campaign_key}:{row.day.isoformat()}"


class FirestoreAdCampaigns(FirestoreAdapter):
    """Campaign records and daily figures (implements shared.ads.ports.AdCampaignStore)."""

    def save_drafts(self, run_id: str, drafts: Sequence[CampaignDraft]) -> None:
        """Record drafted campaigns; a campaign already published keeps its state."""
        for start in range(0, len(drafts), BATCH_LIMIT):
            batch = self.client.batch()
            for draft in drafts[start : start + BATCH_LIMIT]:
                ref = self.client.collection(CAMPAIGNS).document(draft.campaign_key)
                fields = {
                    "campaign_key": draft.campaign_key,
                    "platform": draft.platform,
                    "run_id": run_id,
                    "draft": draft.model_dump(mode="json"),
                    "segment": draft.audience.segment,
                    "daily_budget_cents": draft.daily_budget_cents,
                }
                # merge, and no status field: a redelivered draft task never turns a
                # published campaign back into a draft (no status means drafted)
                batch.set(ref, fields, merge=True)
            batch.commit()

    def mark_published(self, campaign: PublishedCampaign, *, run_id: str, at: datetime) -> None:
        """Record that the platform holds the campaign, with its id and budget."""
        ref = self.client.collection(CAMPAIGNS).document(campaign.campaign_key)
        ref.set(
            {
                "campaign_key": campaign.campaign_key,
                "platform": campaign.platform,
                "status": "published",
                "platform_status": campaign.status,
                "external_id": campaign.external_id,
                "daily_budget_cents": campaign.daily_budget_cents,
                "published_at": at,
                "published_by_run": run_id,
            },
            merge=True,
        )

    def record_budget(self, change: BudgetChange, *, run_id: str, at: datetime) -> None:
        """Record an applied budget change (once per run and campaign)."""
        ref = self.client.collection(CAMPAIGNS).document(change.campaign_key)
        entry = {**change.model_dump(mode="json"), "run_id": run_id, "at": at}
        ref.set(
            {
                "daily_budget_cents": change.to_cents,
                "budget_changes": {run_id: entry},
            },
            merge=True,
        )

    def get(self, campaign_key: str) -> dict[str, Any] | None:
        """The record of one campaign, or None."""
        snapshot = self.client.collection(CAMPAIGNS).document(campaign_key).get()
        return snapshot.to_dict() if snapshot.exists else None

    def list_campaigns(self, limit: int = 200) -> list[dict[str, Any]]:
        """Every campaign record (drafted or published), by key."""
        query = self.client.collection(CAMPAIGNS).order_by("campaign_key").limit(limit)
        return [s.to_dict() or {} for s in query.stream()]

    def published_campaigns(self) -> list[PublishedCampaign]:
        """Every campaign the platforms hold, as last recorded."""
        query = self.client.collection(CAMPAIGNS).where(
            filter=FieldFilter("status", "==", "published")
        )
        return [
            PublishedCampaign(
                campaign_key=data["campaign_key"],
                platform=data["platform"],
                external_id=data["external_id"],
                status=data.get("platform_status", "active"),
                daily_budget_cents=int(data["daily_budget_cents"]),
            )
            for data in (s.to_dict() or {} for s in query.stream())
        ]

    def save_performance(self, rows: Sequence[DailyPerformance]) -> None:
        """Keep each campaign's figures of a day (overwriting an earlier pull of that day)."""
        for start in range(0, len(rows), BATCH_LIMIT):
            batch = self.client.batch()
            for row in rows[start : start + BATCH_LIMIT]:
                ref = self.client.collection(PERFORMANCE).document(performance_id(row))
                batch.set(ref, {**row.model_dump(mode="json"), "day": row.day.isoformat()})
            batch.commit()

    def performance_between(self, start: date, end: date) -> list[DailyPerformance]:
        """Every campaign's figures from `start` to `end`, both included."""
        query = (
            self.client.collection(PERFORMANCE)
            .where(filter=FieldFilter("day", ">=", start.isoformat()))
            .where(filter=FieldFilter("day", "<=", end.isoformat()))
        )
        return sorted(
            (DailyPerformance.model_validate(s.to_dict()) for s in query.stream()),
            key=lambda r: (r.day, r.platform, r.campaign_key),
        )
