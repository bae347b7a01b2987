"""Google Ads API over REST: campaigns with their budget, ad group and A/B ads; budgets; figures.

API: https://googleads.googleapis.com/{version} (v26 by default; configurable), headers
`Authorization: Bearer <OAuth access token>`, `developer-token`, and `login-customer-id`
when acting through a manager account. Endpoints used, each `POST` with JSON:

    customers/{id}/campaignBudgets:mutate  {"operations": [{"create": {name, amountMicros,
                                           deliveryMethod, explicitlyShared}}]}, and
                                           {"update": {resourceName, amountMicros},
                                           "updateMask": "amountMicros"} for a new budget
    customers/{id}/campaigns:mutate        create {name, status, advertisingChannelType:
                                           SEARCH, campaignBudget, manualCpc, networkSettings,
                                           containsEuPoliticalAdvertising}
    customers/{id}/adGroups:mutate         create {name, campaign, status, type, cpcBidMicros}
    customers/{id}/adGroupAds:mutate       one responsive search ad per A/B variant
                                           (3 headlines of at most 30 characters, 2
                                           descriptions of at most 90)
    customers/{id}/googleAds:search        GAQL: the campaign whose name carries our key; a
                                           day's metrics per campaign (segments.date)

Every mutate answers {"results": [{"resourceName": "customers/1/campaigns/2"}]}; search
answers {"results": [{"campaign": {...}, "campaignBudget": {...}, "metrics": {...}}]} with
int64 values as strings (impressions, clicks, costMicros) and doubles as numbers
(conversions, conversionsValue). Errors: {"error": {"code", "message", "status", "details":
[{"errors": [{"message": ...}]}]}}. Certainty: high for the mutate/search envelopes and
field names (the REST mapping of the published protos); medium for which campaign fields a
given API version requires on create (containsEuPoliticalAdvertising is required by recent
versions). Money: our cents x 10,000 = micros, in the account's currency.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from shared.ads.models import CampaignDraft, Creative, DailyPerformance, Platform, PublishedCampaign
from shared.ads.vendor_common import cents_to_micros, key_in_name, micros_to_cents
from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError

GOOGLE_ADS_API = "https://googleads.googleapis.com"
VENDOR = "google_ads"
DEFAULT_VERSION = "v26"


def google_ads_error_message(body: Any) -> str | None:
    """The error's message, with the first Google Ads failure's own message when given."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    details = [
        str(failure["message"])
        for detail in error.get("details") or []
        for failure in (detail.get("errors") or [])
        if isinstance(failure, dict) and failure.get("message")
    ]
    return "; ".join([str(error.get("message", "")), *details]).strip("; ")


def responsive_search_ad(creative: Creative) -> dict[str, Any]:
    """One A/B variant as a responsive search ad (its length limits applied)."""
    headlines = [creative.headline, creative.call_to_action, creative.body]
    descriptions = [creative.body, f"{creative.headline}. {creative.call_to_action}."]
    return {
        "finalUrls": [creative.landing_url],
        "responsiveSearchAd": {
            "headlines": [{"text": text[:30]} for text in headlines],
            "descriptions": [{"text": text[:90]} for text in descriptions],
        },
    }


class GoogleAdsPlatform:
    """One Google Ads customer account (implements shared.ads.ports.AdPlatform)."""

    platform: Platform = "google_ads"

    def __init__(
        self,
        customer_id: str,
        developer_token: str,
        access_token: Callable[[], str],
        *,
        login_customer_id: str | None = None,
        version: str = DEFAULT_VERSION,
        base_url: str = GOOGLE_ADS_API,
        client: httpx.Client | None = None,
        policy: HttpPolicy | None = None,
    ) -> None:
        self.customer_id = customer_id.replace("-", "")
        self.version = version

        def headers() -> dict[str, str]:
            sent = {"Authorization": f"Bearer {access_token()}", "developer-token": developer_token}
            if login_customer_id:
                sent["login-customer-id"] = login_customer_id.replace("-", "")
            return sent

        self.http = VendorHttp(
            VENDOR, base_url, auth_headers=headers, error_message=google_ads_error_message,
            client=client, policy=policy,
        )  # fmt: skip

    def _path(self, resource: str) -> str:
        return f"/{self.version}/customers/{self.customer_id}/{resource}"

    def _create(self, resource: str, fields: dict[str, Any]) -> str:
        body = self.http.request_json(
            "POST", self._path(f"{resource}:mutate"), json={"operations": [{"create": fields}]}
        )
        return str(body["results"][0]["resourceName"])

    def _search(self, query: str) -> list[dict[str, Any]]:
        body = self.http.request_json("POST", self._path("googleAds:search"), json={"query": query})
        return list(body.get("results") or [])

    def find_campaign(self, campaign_key: str) -> PublishedCampaign | None:
        """The campaign whose name carries the key (GAQL LIKE on campaign.name)."""
        rows = self._search(
            "SELECT campaign.resource_name, campaign.name, campaign.status, "
            "campaign_budget.resource_name, campaign_budget.amount_micros FROM campaign "
            f"WHERE campaign.name LIKE '%[{campaign_key}]%' AND campaign.status != 'REMOVED'"
        )
        for row in rows:
            campaign = row.get("campaign") or {}
            if key_in_name(campaign.get("name")) == campaign_key:
                return self._published(campaign_key, campaign, row.get("campaignBudget") or {})
        return None

    def _published(
        self, key: str, campaign: dict[str, Any], budget: dict[str, Any]
    ) -> PublishedCampaign:
        return PublishedCampaign(
            campaign_key=key,
            platform=self.platform,
            external_id=str(campaign["resourceName"]),
            status="active" if campaign.get("status") == "ENABLED" else "paused",
            daily_budget_cents=micros_to_cents(budget.get("amountMicros")),
        )

    def create_campaign(self, draft: CampaignDraft) -> PublishedCampaign:
        """Budget, then the search campaign, one ad group, and one ad per A/B variant."""
        budget = self._create(
            "campaignBudgets",
            {
                "name": f"{draft.name} budget",
                "amountMicros": cents_to_micros(draft.daily_budget_cents),
                "deliveryMethod": "STANDARD",
                "explicitlyShared": False,
            },
        )
        campaign = self._create(
            "campaigns",
            {
                "name": draft.name,
                "status": "ENABLED",
                "advertisingChannelType": "SEARCH",
                "campaignBudget": budget,
                "manualCpc": {},
                "networkSettings": {"targetGoogleSearch": True, "targetSearchNetwork": True,
                                    "targetContentNetwork": False},
                "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
            },
        )  # fmt: skip
        group = self._create(
            "adGroups",
            {
                "name": f"{draft.audience.segment} {draft.campaign_key}",
                "campaign": campaign,
                "status": "ENABLED",
                "type": "SEARCH_STANDARD",
                "cpcBidMicros": cents_to_micros(100),
            },
        )
        for creative in draft.creatives:
            self._create(
                "adGroupAds",
                {"adGroup": group, "status": "ENABLED", "ad": responsive_search_ad(creative)},
            )
        return PublishedCampaign(
            campaign_key=draft.campaign_key,
            platform=self.platform,
            external_id=campaign,
            status="active",
            daily_budget_cents=draft.daily_budget_cents,
        )

    def set_daily_budget(self, external_id: str, daily_budget_cents: int) -> PublishedCampaign:
        """Look up the campaign's budget, then update its amount."""
        rows = self._search(
            "SELECT campaign.resource_name, campaign.name, campaign.status, "
            "campaign_budget.resource_name FROM campaign "
            f"WHERE campaign.resource_name = '{external_id}'"
        )
        if not rows:
            raise VendorPermanentError(VENDOR, f"no campaign {external_id}", status=404)
        campaign, budget = rows[0]["campaign"], rows[0]["campaignBudget"]
        self.http.request_json(
            "POST",
            self._path("campaignBudgets:mutate"),
            json={
                "operations": [
                    {
                        "update": {
                            "resourceName": budget["resourceName"],
                            "amountMicros": cents_to_micros(daily_budget_cents),
                        },
                        "updateMask": "amountMicros",
                    }
                ]
            },
        )
        key = key_in_name(campaign.get("name")) or external_id
        return self._published(key, campaign, {"amountMicros": cents_to_micros(daily_budget_cents)})

    def daily_performance(self, day: date) -> list[DailyPerformance]:
        """Each of our campaigns' metrics on `day` (campaigns without our key are skipped)."""
        rows = self._search(
            "SELECT campaign.resource_name, campaign.name, segments.date, metrics.impressions, "
            "metrics.clicks, metrics.conversions, metrics.cost_micros, "
            f"metrics.conversions_value FROM campaign WHERE segments.date = '{day.isoformat()}'"
        )
        figures = []
        for row in rows:
            campaign, metrics = row.get("campaign") or {}, row.get("metrics") or {}
            key = key_in_name(campaign.get("name"))
            if key is None:
                continue
            figures.append(
                DailyPerformance(
                    campaign_key=key,
                    platform=self.platform,
                    external_id=str(campaign["resourceName"]),
                    day=day,
                    impressions=int(metrics.get("impressions", 0)),
                    clicks=int(metrics.get("clicks", 0)),
                    conversions=float(metrics.get("conversions", 0)),
                    spend_cents=micros_to_cents(metrics.get("costMicros")),
                    conversion_value_cents=round(float(metrics.get("conversionsValue", 0)) * 100),
                )
            )
        return figures
