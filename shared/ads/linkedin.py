"""LinkedIn Marketing API (versioned REST): text-ad campaigns, budgets and daily analytics.

API: https://api.linkedin.com/rest, headers `Authorization: Bearer <token>` (scopes
rw_ads, r_ads_reporting), `LinkedIn-Version: YYYYMM` (shared with the messaging adapter's
LINKEDIN_API_VERSION; LinkedIn retires each version about a year after release) and
`X-Restli-Protocol-Version: 2.0.0`. Endpoints used:

    POST adAccounts/{account}/adCampaigns     {account, campaignGroup, name, type: TEXT_AD,
                                              costType: CPC, objectiveType, dailyBudget:
                                              {amount, currencyCode}, unitCost, locale,
                                              targetingCriteria, offsiteDeliveryEnabled,
                                              politicalIntent, status} -> 201, the new id in
                                              the `x-restli-id` header, empty body
    POST adAccounts/{account}/creatives       {campaign, intendedStatus, content: {textAd:
                                              {headline, description, landingPage}}}, one per
                                              A/B variant -> 201
    GET  adAccounts/{account}/adCampaigns     ?q=search&search=(name:(values:List(...)))
                                              -> {"elements": [{id, name, status,
                                              dailyBudget}, ...]}
    POST adAccounts/{account}/adCampaigns/{id}  `X-RestLi-Method: PARTIAL_UPDATE`,
                                              {"patch": {"$set": {"dailyBudget": ...}}} -> 204
    GET  adAnalytics                          ?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY
                                              &dateRange=(start:(...),end:(...))
                                              &accounts=List(urn...)&fields=... ->
                                              {"elements": [{pivotValues, impressions, clicks,
                                              externalWebsiteConversions, costInLocalCurrency,
                                              conversionValueInLocalCurrency}]}

Rest.li query syntax (parentheses, List(...), colons) must reach LinkedIn unencoded while
URNs inside are encoded, so those query strings are built here, not by httpx. Targeting: the
configured location URNs (audience segments would need LinkedIn matched audiences, kept in
sync outside controlroom). Errors: {"status", "serviceErrorCode", "code", "message"}.
Certainty: high for the paths, headers, search and partial-update shapes; medium for the
campaign fields a given version requires (politicalIntent, offsiteDeliveryEnabled).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from shared.ads.models import CampaignDraft, DailyPerformance, Platform, PublishedCampaign
from shared.ads.vendor_common import cents_to_decimal, decimal_to_cents, key_in_name
from shared.http.client import HttpPolicy, VendorHttp
from shared.http.linkedin import LINKEDIN_API_VERSION

LINKEDIN_API = "https://api.linkedin.com"
VENDOR = "linkedin_ads"
OBJECTIVES = {"conversions": "WEBSITE_CONVERSION", "traffic": "WEBSITE_VISIT",
              "leads": "LEAD_GENERATION"}  # fmt: skip
CAMPAIGN_URN = "urn:li:sponsoredCampaign:"


def linkedin_error_message(body: Any) -> str | None:
    """LinkedIn's error message and service error code."""
    if not isinstance(body, dict) or "message" not in body:
        return None
    return f"{body['message']} (serviceErrorCode {body.get('serviceErrorCode')})"


def _date(day: date) -> str:
    return f"(year:{day.year},month:{day.month},day:{day.day})"


class LinkedInAdsPlatform:
    """One LinkedIn ad account (implements shared.ads.ports.AdPlatform)."""

    platform: Platform = "linkedin"

    def __init__(
        self,
        ad_account_id: str,
        access_token: str,
        *,
        campaign_group_id: str,
        currency: str = "EUR",
        locations: Sequence[str] = ("urn:li:geo:105015875",),  # France
        version: str = LINKEDIN_API_VERSION,
        base_url: str = LINKEDIN_API,
        client: httpx.Client | None = None,
        policy: HttpPolicy | None = None,
    ) -> None:
        self.account_id = ad_account_id.removeprefix("urn:li:sponsoredAccount:")
        self.campaign_group_id = campaign_group_id.removeprefix("urn:li:sponsoredCampaignGroup:")
        self.currency = currency
        self.locations = list(locations)
        headers = {
            "Authorization": f"Bearer {access_token}",
            "LinkedIn-Version": version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        self.http = VendorHttp(
            VENDOR, base_url, auth_headers=lambda: headers, error_message=linkedin_error_message,
            client=client, policy=policy,
        )  # fmt: skip

    @property
    def _campaigns(self) -> str:
        return f"/rest/adAccounts/{self.account_id}/adCampaigns"

    def _money(self, cents: int) -> dict[str, str]:
        return {"amount": cents_to_decimal(cents), "currencyCode": self.currency}

    def _published(self, key: str, campaign: dict[str, Any]) -> PublishedCampaign:
        return PublishedCampaign(
            campaign_key=key,
            platform=self.platform,
            external_id=f"{CAMPAIGN_URN}{campaign['id']}",
            status="active" if campaign.get("status") == "ACTIVE" else "paused",
            daily_budget_cents=decimal_to_cents((campaign.get("dailyBudget") or {}).get("amount")),
        )

    def find_campaign(self, campaign_key: str) -> PublishedCampaign | None:
        """The campaign whose name carries the key (search by name)."""
        name = quote(f"[{campaign_key}]", safe="")
        body = self.http.request_json(
            "GET", f"{self._campaigns}?q=search&search=(name:(values:List({name})))"
        )
        for campaign in body.get("elements") or []:
            if key_in_name(campaign.get("name")) == campaign_key:
                return self._published(campaign_key, campaign)
        return None

    def create_campaign(self, draft: CampaignDraft) -> PublishedCampaign:
        """The text-ad campaign with its daily budget, then one creative per A/B variant."""
        created = self.http.request(
            "POST",
            self._campaigns,
            json={
                "account": f"urn:li:sponsoredAccount:{self.account_id}",
                "campaignGroup": f"urn:li:sponsoredCampaignGroup:{self.campaign_group_id}",
                "name": draft.name,
                "type": "TEXT_AD",
                "costType": "CPC",
                "objectiveType": OBJECTIVES[draft.objective],
                "dailyBudget": self._money(draft.daily_budget_cents),
                "unitCost": self._money(200),
                "locale": {"country": "US", "language": "en"},
                "targetingCriteria": {"include": {"and": [
                    {"or": {"urn:li:adTargetingFacet:locations": self.locations}}]}},
                "offsiteDeliveryEnabled": False,
                "politicalIntent": "NOT_POLITICAL",
                "status": "ACTIVE",
            },
        )  # fmt: skip
        campaign_id = created.headers.get("x-restli-id") or created.headers.get("x-linkedin-id")
        if not campaign_id:
            raise ValueError("LinkedIn created a campaign without saying its id (x-restli-id)")
        for creative in draft.creatives:
            self.http.request(
                "POST",
                f"/rest/adAccounts/{self.account_id}/creatives",
                json={
                    "campaign": f"{CAMPAIGN_URN}{campaign_id}",
                    "intendedStatus": "ACTIVE",
                    "content": {"textAd": {"headline": creative.headline[:25],
                                           "description": creative.body[:75],
                                           "landingPage": creative.landing_url}},
                },
            )  # fmt: skip
        return PublishedCampaign(
            campaign_key=draft.campaign_key,
            platform=self.platform,
            external_id=f"{CAMPAIGN_URN}{campaign_id}",
            status="active",
            daily_budget_cents=draft.daily_budget_cents,
        )

    def set_daily_budget(self, external_id: str, daily_budget_cents: int) -> PublishedCampaign:
        """Partially update the campaign's daily budget, then read it back."""
        campaign_id = external_id.removeprefix(CAMPAIGN_URN)
        self.http.request(
            "POST",
            f"{self._campaigns}/{campaign_id}",
            json={"patch": {"$set": {"dailyBudget": self._money(daily_budget_cents)}}},
            headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
        )
        campaign = self.http.request_json("GET", f"{self._campaigns}/{campaign_id}")
        return self._published(key_in_name(campaign.get("name")) or external_id, campaign)

    def _names(self) -> dict[str, str]:
        """Our campaigns' URNs -> keys (analytics rows name campaigns by URN only)."""
        body = self.http.request_json("GET", f"{self._campaigns}?q=search")
        return {
            f"{CAMPAIGN_URN}{c['id']}": key
            for c in body.get("elements") or []
            if (key := key_in_name(c.get("name"))) is not None
        }

    def daily_performance(self, day: date) -> list[DailyPerformance]:
        """Each of our campaigns' analytics on `day`."""
        account = quote(f"urn:li:sponsoredAccount:{self.account_id}", safe="")
        fields = ("impressions,clicks,externalWebsiteConversions,costInLocalCurrency,"
                  "conversionValueInLocalCurrency,pivotValues,dateRange")  # fmt: skip
        body = self.http.request_json(
            "GET",
            f"/rest/adAnalytics?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY"
            f"&dateRange=(start:{_date(day)},end:{_date(day)})&accounts=List({account})"
            f"&fields={fields}",
        )
        keys = self._names()
        figures = []
        for row in body.get("elements") or []:
            urn = next(iter(row.get("pivotValues") or []), None)
            if urn not in keys:
                continue
            figures.append(
                DailyPerformance(
                    campaign_key=keys[urn],
                    platform=self.platform,
                    external_id=urn,
                    day=day,
                    impressions=int(row.get("impressions", 0)),
                    clicks=int(row.get("clicks", 0)),
                    conversions=float(row.get("externalWebsiteConversions", 0)),
                    spend_cents=decimal_to_cents(row.get("costInLocalCurrency")),
                    conversion_value_cents=decimal_to_cents(
                        row.get("conversionValueInLocalCurrency")
                    ),
                )
            )
        return figures
