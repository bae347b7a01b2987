"""Meta Marketing API (Facebook and Instagram ads) over the Graph API.

API: https://graph.facebook.com/{version} (v21.0 by default; configurable), a system user's
access token as `Authorization: Bearer ...`, JSON bodies. Endpoints used:

    POST act_{account}/campaigns     {name, objective (OUTCOME_SALES | OUTCOME_TRAFFIC |
                                     OUTCOME_LEADS), status, special_ad_categories: [],
                                     daily_budget (minor units: campaign budget optimisation),
                                     bid_strategy} -> {"id"}
    POST act_{account}/adsets        {name, campaign_id, billing_event: IMPRESSIONS,
                                     optimization_goal, targeting, status} -> {"id"}
    POST act_{account}/adcreatives   {name, object_story_spec: {page_id, link_data: {link,
                                     message, name, call_to_action}}} -> {"id"}
    POST act_{account}/ads           {name, adset_id, creative: {creative_id}, status}
    GET  act_{account}/campaigns     fields, filtering=[{field: name, operator: CONTAIN,
                                     value}] -> {"data": [...], "paging": {...}}
    POST {campaign_id}               {daily_budget} -> {"success": true}
    GET  act_{account}/insights      level=campaign, time_range={since, until}, fields:
                                     campaign_id, campaign_name, impressions, clicks, spend,
                                     actions, action_values -> {"data": [...]} with numbers as
                                     strings, spend in currency units, conversions in
                                     `actions` by action_type (purchase, lead, ...)

Targeting: the segment's Meta custom audience when one is configured
(meta_custom_audiences: {segment: audience id}, kept in sync outside controlroom), else the
configured countries. Errors: {"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}; throttling comes as HTTP 400/403 with codes 4, 17, 32, 613 or 80000-80014,
retried. Certainty: high for the endpoints, envelopes and the insights fields; medium for
which ad set fields a given objective requires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import httpx

from shared.ads.models import CampaignDraft, DailyPerformance, Platform, PublishedCampaign
from shared.ads.vendor_common import decimal_to_cents, key_in_name
from shared.http.client import HttpPolicy, VendorHttp

GRAPH_API = "https://graph.facebook.com"
VENDOR = "meta"
DEFAULT_VERSION = "v21.0"
OBJECTIVES = {"conversions": "OUTCOME_SALES", "traffic": "OUTCOME_TRAFFIC",
              "leads": "OUTCOME_LEADS"}  # fmt: skip
OPTIMIZATION = {"conversions": "OFFSITE_CONVERSIONS", "traffic": "LINK_CLICKS",
                "leads": "LEAD_GENERATION"}  # fmt: skip
CONVERSION_ACTIONS = ("purchase", "offsite_conversion.fb_pixel_purchase", "lead")
THROTTLING_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})


def meta_error_message(body: Any) -> str | None:
    """The Graph API error's message, type and code."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return f"{error.get('message', '')} ({error.get('type', 'error')} {error.get('code', '')})"


def meta_throttled(response: httpx.Response) -> bool | None:
    """Throttling answers 400/403 with one of the rate-limit codes: retry those."""
    try:
        code = int(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None
    return True if code in THROTTLING_CODES else None


def _action_total(entries: Sequence[Mapping[str, Any]] | None) -> float:
    return sum(
        float(e.get("value", 0))
        for e in entries or ()
        if e.get("action_type") in CONVERSION_ACTIONS
    )


class MetaAdsPlatform:
    """One Meta ad account (implements shared.ads.ports.AdPlatform)."""

    platform: Platform = "meta"

    def __init__(
        self,
        ad_account_id: str,
        access_token: str,
        *,
        page_id: str,
        countries: Sequence[str] = ("FR",),
        custom_audiences: Mapping[str, str] | None = None,
        version: str = DEFAULT_VERSION,
        base_url: str = GRAPH_API,
        client: httpx.Client | None = None,
        policy: HttpPolicy | None = None,
    ) -> None:
        self.account = f"act_{ad_account_id.removeprefix('act_')}"
        self.page_id = page_id
        self.countries = list(countries)
        self.custom_audiences = dict(custom_audiences or {})
        self.version = version
        self.http = VendorHttp(
            VENDOR, base_url, auth_headers=lambda: {"Authorization": f"Bearer {access_token}"},
            error_message=meta_error_message, client=client, policy=policy,
            retry_hint=meta_throttled,
        )  # fmt: skip

    def _path(self, edge: str) -> str:
        return f"/{self.version}/{edge}"

    def _create(self, edge: str, fields: dict[str, Any]) -> str:
        body = self.http.request_json("POST", self._path(f"{self.account}/{edge}"), json=fields)
        return str(body["id"])

    def find_campaign(self, campaign_key: str) -> PublishedCampaign | None:
        """The campaign whose name carries the key."""
        filtering = [{"field": "name", "operator": "CONTAIN", "value": f"[{campaign_key}]"}]
        body = self.http.request_json(
            "GET",
            self._path(f"{self.account}/campaigns"),
            params=[("fields", "id,name,status,daily_budget"),
                    ("filtering", json.dumps(filtering))],
        )  # fmt: skip
        for campaign in body.get("data") or []:
            if key_in_name(campaign.get("name")) == campaign_key:
                return self._published(campaign_key, campaign)
        return None

    def _published(self, key: str, campaign: Mapping[str, Any]) -> PublishedCampaign:
        return PublishedCampaign(
            campaign_key=key,
            platform=self.platform,
            external_id=str(campaign["id"]),
            status="active" if campaign.get("status") == "ACTIVE" else "paused",
            # A campaign budgeted on its ad sets has none of its own: shown as 1 cent.
            daily_budget_cents=max(1, int(campaign.get("daily_budget") or 0)),
        )

    def _targeting(self, segment: str) -> dict[str, Any]:
        targeting: dict[str, Any] = {"geo_locations": {"countries": self.countries}}
        if segment in self.custom_audiences:
            targeting["custom_audiences"] = [{"id": self.custom_audiences[segment]}]
        return targeting

    def create_campaign(self, draft: CampaignDraft) -> PublishedCampaign:
        """Campaign (with the daily budget), one ad set for the audience, one ad per variant."""
        campaign_id = self._create(
            "campaigns",
            {
                "name": draft.name,
                "objective": OBJECTIVES[draft.objective],
                "status": "ACTIVE",
                "special_ad_categories": [],
                "daily_budget": draft.daily_budget_cents,  # minor units of the account currency
                "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
            },
        )
        ad_set_id = self._create(
            "adsets",
            {
                "name": f"{draft.audience.segment} {draft.campaign_key}",
                "campaign_id": campaign_id,
                "billing_event": "IMPRESSIONS",
                "optimization_goal": OPTIMIZATION[draft.objective],
                "targeting": self._targeting(draft.audience.segment),
                "status": "ACTIVE",
            },
        )
        for creative in draft.creatives:
            creative_id = self._create(
                "adcreatives",
                {
                    "name": f"{draft.campaign_key} {creative.variant}",
                    "object_story_spec": {
                        "page_id": self.page_id,
                        "link_data": {
                            "link": creative.landing_url,
                            "message": creative.body,
                            "name": creative.headline,
                            "call_to_action": {"type": "LEARN_MORE"},
                        },
                    },
                },
            )
            self._create(
                "ads",
                {
                    "name": f"{draft.campaign_key} {creative.variant}",
                    "adset_id": ad_set_id,
                    "creative": {"creative_id": creative_id},
                    "status": "ACTIVE",
                },
            )
        return PublishedCampaign(
            campaign_key=draft.campaign_key,
            platform=self.platform,
            external_id=campaign_id,
            status="active",
            daily_budget_cents=draft.daily_budget_cents,
        )

    def set_daily_budget(self, external_id: str, daily_budget_cents: int) -> PublishedCampaign:
        """Update the campaign's daily budget, then read it back."""
        self.http.request_json(
            "POST", self._path(external_id), json={"daily_budget": daily_budget_cents}
        )
        campaign = self.http.request_json(
            "GET", self._path(external_id), params=[("fields", "id,name,status,daily_budget")]
        )
        return self._published(key_in_name(campaign.get("name")) or external_id, campaign)

    def daily_performance(self, day: date) -> list[DailyPerformance]:
        """Each of our campaigns' insights on `day` (campaigns without our key are skipped)."""
        window = json.dumps({"since": day.isoformat(), "until": day.isoformat()})
        fields = "campaign_id,campaign_name,impressions,clicks,spend,actions,action_values"
        body = self.http.request_json(
            "GET",
            self._path(f"{self.account}/insights"),
            params=[("level", "campaign"), ("time_range", window), ("fields", fields),
                    ("limit", "500")],
        )  # fmt: skip
        figures = []
        for row in body.get("data") or []:
            key = key_in_name(row.get("campaign_name"))
            if key is None:
                continue
            figures.append(
                DailyPerformance(
                    campaign_key=key,
                    platform=self.platform,
                    external_id=str(row["campaign_id"]),
                    day=day,
                    impressions=int(row.get("impressions", 0)),
                    clicks=int(row.get("clicks", 0)),
                    conversions=_action_total(row.get("actions")),
                    spend_cents=decimal_to_cents(row.get("spend")),
                    conversion_value_cents=decimal_to_cents(
                        _action_total(row.get("action_values"))
                    ),
                )
            )
        return figures
