"""The local twin of an ad platform: what Google Ads, Meta or LinkedIn would hold, in Firestore.

The default for every platform without credentials, so the growth and ad-performance
workflows run end to end with no account. It behaves like the platforms where it matters to
us: creating is not idempotent (a second create makes a second campaign, so a test can count
duplicates), a campaign is found by the key in its name, budgets change only when asked, and
every change is kept in the campaign's `budget_history`. Its daily figures are simulated and
deterministic: spend close to the budget, and a return on spend that depends on the platform
and the audience (so the same campaigns underperform on every run, and the review has
something to move). Layout: ad_twin_campaigns/{external id}, one per created campaign.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.ads.models import CampaignDraft, DailyPerformance, Platform, PublishedCampaign
from shared.core.errors import PermanentError
from shared.gcp.firestore import FirestoreAdapter

TWIN_CAMPAIGNS = "ad_twin_campaigns"
AVERAGE_ORDER_CENTS = 4500


def _external_id(platform: Platform) -> str:
    number = uuid.uuid4().int % 10**12
    if platform == "google_ads":
        return f"customers/1234567890/campaigns/{number}"
    if platform == "linkedin":
        return f"urn:li:sponsoredCampaign:{number}"
    return str(number)


def return_on_spend(platform: str, segment: str) -> float:
    """The simulated ROAS of a platform's campaign for one audience (0.4 to 2.6)."""
    digest = hashlib.sha256(f"{platform}:{segment}".encode()).digest()
    return 0.4 + 2.2 * int.from_bytes(digest[:4], "big") / 2**32


def simulated_day(
    platform: Platform, key: str, external_id: str, segment: str, budget_cents: int, day: date
) -> DailyPerformance:
    """One campaign's figures on one day, the same on every call."""
    rng = random.Random(f"{key}:{day.isoformat()}")
    spend = int(budget_cents * rng.uniform(0.85, 1.0))
    impressions = int(spend / 100 * rng.uniform(80, 200))
    clicks = int(impressions * rng.uniform(0.008, 0.03))
    value = int(spend * return_on_spend(platform, segment) * rng.uniform(0.9, 1.1))
    conversions = min(float(clicks), round(value / AVERAGE_ORDER_CENTS, 2))
    return DailyPerformance(
        campaign_key=key,
        platform=platform,
        external_id=external_id,
        day=day,
        impressions=impressions,
        clicks=clicks,
        conversions=conversions,
        spend_cents=spend,
        conversion_value_cents=value,
    )


class LocalAdPlatform(FirestoreAdapter):
    """One platform's account, simulated in Firestore (implements shared.ads.ports.AdPlatform)."""

    def __init__(
        self,
        platform: Platform,
        project_id: str,
        client: firestore.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(project_id, client)
        self.platform: Platform = platform
        self.clock = clock

    def _campaigns(self) -> firestore.CollectionReference:
        return self.client.collection(TWIN_CAMPAIGNS)

    def _published(self, data: dict[str, object]) -> PublishedCampaign:
        return PublishedCampaign(
            campaign_key=str(data["campaign_key"]),
            platform=self.platform,
            external_id=str(data["external_id"]),
            status="active",
            daily_budget_cents=int(str(data["daily_budget_cents"])),
        )

    def find_campaign(self, campaign_key: str) -> PublishedCampaign | None:
        """The campaign whose name carries this key (the first created, if several)."""
        query = (
            self._campaigns()
            .where(filter=FieldFilter("platform", "==", self.platform))
            .where(filter=FieldFilter("campaign_key", "==", campaign_key))
        )
        found = sorted((s.to_dict() or {} for s in query.stream()), key=lambda d: d["created_at"])
        return self._published(found[0]) if found else None

    def create_campaign(self, draft: CampaignDraft) -> PublishedCampaign:
        """Create it, active: every call creates one more, as on the real platforms."""
        if draft.platform != self.platform:
            raise PermanentError(f"a {draft.platform} campaign sent to {self.platform}")
        external_id = _external_id(self.platform)
        data = {
            "platform": self.platform,
            "campaign_key": draft.campaign_key,
            "external_id": external_id,
            "name": draft.name,
            "segment": draft.audience.segment,
            "daily_budget_cents": draft.daily_budget_cents,
            "creatives": [c.model_dump(mode="json") for c in draft.creatives],
            "created_at": self.clock(),
            "budget_history": [],
        }
        self._campaigns().document(_doc_id(external_id)).create(data)
        return self._published(data)

    def set_daily_budget(self, external_id: str, daily_budget_cents: int) -> PublishedCampaign:
        """Change the budget, keeping the change in the campaign's history."""
        ref = self._campaigns().document(_doc_id(external_id))
        snapshot = ref.get()
        if not snapshot.exists:
            raise PermanentError(f"{self.platform} has no campaign {external_id}")
        data = snapshot.to_dict() or {}
        change = {
            "from_cents": data["daily_budget_cents"],
            "to_cents": daily_budget_cents,
            "at": self.clock(),
        }
        ref.update(
            {
                "daily_budget_cents": daily_budget_cents,
                "budget_history": firestore.ArrayUnion([change]),
            }
        )
        return self._published({**data, "daily_budget_cents": daily_budget_cents})

    def daily_performance(self, day: date) -> list[DailyPerformance]:
        """Simulated figures of every campaign that existed on `day`."""
        query = self._campaigns().where(filter=FieldFilter("platform", "==", self.platform))
        rows = []
        for data in (s.to_dict() or {} for s in query.stream()):
            if data["created_at"].date() > day:
                continue
            rows.append(
                simulated_day(
                    self.platform,
                    data["campaign_key"],
                    data["external_id"],
                    data["segment"],
                    int(data["daily_budget_cents"]),
                    day,
                )
            )
        return sorted(rows, key=lambda r: r.campaign_key)


def _doc_id(external_id: str) -> str:
    # Google's resource names contain slashes, which Firestore ids may not.
    return external_id.replace("/", "_")
