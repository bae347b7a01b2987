"""Meta Marketing API and LinkedIn Marketing API clients against their documented shapes."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import unquote

import httpx
import pytest

from shared.ads.linkedin import LinkedInAdsPlatform
from shared.ads.meta import MetaAdsPlatform
from shared.ads.models import Audience, CampaignDraft, Creative
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from tests.helpers.fakes.vendor_api import ReplayedApi

KEY = "cmp-fedcba9876543210"
CREATIVES = tuple(
    Creative(variant=v, headline=f"Headline {v}", body=f"Body of variant {v}.",
             call_to_action="Learn more", landing_url="https://shop.example.com/pricing")
    for v in "AB"
)  # fmt: skip


def draft(platform: str) -> CampaignDraft:
    return CampaignDraft(
        campaign_key=KEY, platform=platform, name=f"controlroom engaged-shoppers [{KEY}]",  # type: ignore[arg-type]
        daily_budget_cents=4321, audience=Audience(segment="engaged-shoppers", size=12),
        creatives=CREATIVES,
    )  # fmt: skip


def ids(*values: str) -> list[httpx.Response]:
    return [httpx.Response(200, json={"id": v}) for v in values]


def sequence(answers: list[httpx.Response]) -> object:
    pending = list(answers)
    return lambda request: pending.pop(0)


# --- Meta ----------------------------------------------------------------------------------


def meta(api: ReplayedApi) -> MetaAdsPlatform:
    return MetaAdsPlatform(
        "act_555", "EAAB-token", page_id="777", countries=("FR", "BE"),
        custom_audiences={"engaged-shoppers": "2384"}, client=api.client(),
        policy=HttpPolicy(max_attempts=1),
    )  # fmt: skip


def test_meta_creates_campaign_ad_set_and_a_creative_and_ad_per_variant() -> None:
    api = ReplayedApi([
        ("POST", "/act_555/campaigns", httpx.Response(200, json={"id": "120001"})),
        ("POST", "/act_555/adsets", httpx.Response(200, json={"id": "120002"})),
        ("POST", "/act_555/adcreatives", sequence(ids("c-a", "c-b"))),
        ("POST", "/act_555/ads", sequence(ids("ad-a", "ad-b"))),
    ])  # fmt: skip

    published = meta(api).create_campaign(draft("meta"))

    assert published.external_id == "120001" and published.daily_budget_cents == 4321
    campaign = api.bodies("/act_555/campaigns")[0]
    assert campaign == {"name": draft("meta").name, "objective": "OUTCOME_SALES",
                        "status": "ACTIVE", "special_ad_categories": [], "daily_budget": 4321,
                        "bid_strategy": "LOWEST_COST_WITHOUT_CAP"}  # fmt: skip
    ad_set = api.bodies("/act_555/adsets")[0]
    assert ad_set["campaign_id"] == "120001"
    assert ad_set["targeting"] == {"geo_locations": {"countries": ["FR", "BE"]},
                                   "custom_audiences": [{"id": "2384"}]}  # fmt: skip
    creatives = api.bodies("/act_555/adcreatives")
    assert [c["object_story_spec"]["link_data"]["name"] for c in creatives] == [
        "Headline A", "Headline B",
    ]  # fmt: skip
    assert [a["creative"] for a in api.bodies("/act_555/ads")] == [
        {"creative_id": "c-a"}, {"creative_id": "c-b"},
    ]  # fmt: skip
    assert api.requests[0].url.path == "/v21.0/act_555/campaigns"
    assert api.requests[0].headers["Authorization"] == "Bearer EAAB-token"


def test_meta_finds_by_name_changes_the_budget_and_reads_insights() -> None:
    campaign = {"id": "120001", "name": draft("meta").name, "status": "ACTIVE",
                "daily_budget": "4321"}  # fmt: skip
    insights = {"data": [{"campaign_id": "120001", "campaign_name": draft("meta").name,
                          "impressions": "8012", "clicks": "211", "spend": "41.07",
                          "actions": [{"action_type": "link_click", "value": "211"},
                                      {"action_type": "purchase", "value": "3"}],
                          "action_values": [{"action_type": "purchase", "value": "135.50"}],
                          "date_start": "2026-11-19", "date_stop": "2026-11-19"}],
                "paging": {"cursors": {}}}  # fmt: skip
    api = ReplayedApi([
        ("GET", "/act_555/campaigns", httpx.Response(200, json={"data": [campaign]})),
        ("GET", "/act_555/insights", httpx.Response(200, json=insights)),
        ("POST", "/120001", httpx.Response(200, json={"success": True})),
        ("GET", "/120001", httpx.Response(200, json={**campaign, "daily_budget": "5000"})),
    ])  # fmt: skip
    client = meta(api)

    found = client.find_campaign(KEY)
    updated = client.set_daily_budget("120001", 5000)
    [day] = client.daily_performance(date(2026, 11, 19))

    assert found is not None and found.daily_budget_cents == 4321
    filtering = json.loads(api.requests[0].url.params["filtering"])
    assert filtering == [{"field": "name", "operator": "CONTAIN", "value": f"[{KEY}]"}]
    assert api.bodies("/120001")[0] == {"daily_budget": 5000}
    assert updated.daily_budget_cents == 5000
    assert (day.impressions, day.clicks, day.conversions) == (8012, 211, 3.0)
    assert day.spend_cents == 4107 and day.conversion_value_cents == 13550
    window = json.loads(api.requests[-1].url.params["time_range"])
    assert window == {"since": "2026-11-19", "until": "2026-11-19"}


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(400, 17, VendorRetryableError), (400, 100, VendorPermanentError)],
)
def test_meta_throttling_codes_are_retried_other_400s_are_not(
    status: int, code: int, error: type[Exception]
) -> None:
    body = {"error": {"message": "User request limit reached", "type": "OAuthException",
                      "code": code, "fbtrace_id": "A1"}}  # fmt: skip
    api = ReplayedApi([("POST", "/act_555/campaigns", httpx.Response(status, json=body))])

    with pytest.raises(error, match="User request limit reached"):
        meta(api).create_campaign(draft("meta"))


# --- LinkedIn ------------------------------------------------------------------------------


def linkedin(api: ReplayedApi) -> LinkedInAdsPlatform:
    return LinkedInAdsPlatform(
        "508001", "AQX-token", campaign_group_id="6100", version="202510",
        client=api.client(), policy=HttpPolicy(max_attempts=1),
    )  # fmt: skip


def test_linkedin_creates_a_text_ad_campaign_reading_its_id_from_the_header() -> None:
    api = ReplayedApi([
        ("POST", "/adCampaigns", httpx.Response(201, headers={"x-restli-id": "9001"})),
        ("POST", "/creatives", httpx.Response(201, headers={"x-restli-id": "1"})),
    ])  # fmt: skip

    published = linkedin(api).create_campaign(draft("linkedin"))

    assert published.external_id == "urn:li:sponsoredCampaign:9001"
    campaign = api.bodies("/adCampaigns")[0]
    assert campaign["dailyBudget"] == {"amount": "43.21", "currencyCode": "EUR"}
    assert campaign["campaignGroup"] == "urn:li:sponsoredCampaignGroup:6100"
    assert campaign["account"] == "urn:li:sponsoredAccount:508001"
    assert campaign["type"] == "TEXT_AD" and campaign["name"] == draft("linkedin").name
    creatives = api.bodies("/creatives")
    assert [c["content"]["textAd"]["headline"] for c in creatives] == ["Headline A", "Headline B"]
    assert {c["campaign"] for c in creatives} == {"urn:li:sponsoredCampaign:9001"}
    headers = api.requests[0].headers
    assert headers["LinkedIn-Version"] == "202510"
    assert headers["X-Restli-Protocol-Version"] == "2.0.0"


def test_linkedin_searches_by_name_patches_the_budget_and_reads_analytics() -> None:
    campaign = {"id": 9001, "name": draft("linkedin").name, "status": "ACTIVE",
                "dailyBudget": {"amount": "43.21", "currencyCode": "EUR"}}  # fmt: skip
    analytics = {"elements": [
        {"pivotValues": ["urn:li:sponsoredCampaign:9001"], "impressions": 3100, "clicks": 42,
         "externalWebsiteConversions": 2, "costInLocalCurrency": "38.904",
         "conversionValueInLocalCurrency": "20.0"},
        {"pivotValues": ["urn:li:sponsoredCampaign:1"], "impressions": 1, "clicks": 0},
    ]}  # fmt: skip
    api = ReplayedApi([
        ("GET", "/adCampaigns", httpx.Response(200, json={"elements": [campaign]})),
        ("POST", "/adCampaigns/9001", httpx.Response(204)),
        ("GET", "/adCampaigns/9001", httpx.Response(200, json={**campaign,
            "dailyBudget": {"amount": "30.00", "currencyCode": "EUR"}})),
        ("GET", "/adAnalytics", httpx.Response(200, json=analytics)),
    ])  # fmt: skip
    client = linkedin(api)

    found = client.find_campaign(KEY)
    updated = client.set_daily_budget("urn:li:sponsoredCampaign:9001", 3000)
    [day] = client.daily_performance(date(2026, 11, 19))

    assert found is not None and found.daily_budget_cents == 4321
    search = unquote(str(api.requests[0].url))
    assert f"search=(name:(values:List([{KEY}])))" in search
    patch = api.requests[1]
    assert patch.headers["X-RestLi-Method"] == "PARTIAL_UPDATE"
    assert json.loads(patch.content) == {
        "patch": {"$set": {"dailyBudget": {"amount": "30.00", "currencyCode": "EUR"}}}
    }
    assert updated.daily_budget_cents == 3000
    assert (day.campaign_key, day.impressions, day.clicks, day.conversions) == (KEY, 3100, 42, 2.0)
    assert day.spend_cents == 3890 and day.conversion_value_cents == 2000
    query = unquote(str(next(r.url for r in api.requests if r.url.path.endswith("/adAnalytics"))))
    assert "dateRange=(start:(year:2026,month:11,day:19),end:(year:2026,month:11,day:19))" in query
    assert "accounts=List(urn:li:sponsoredAccount:508001)" in query


def test_linkedin_errors_keep_the_service_message() -> None:
    body = {"status": 422, "serviceErrorCode": 100, "code": "UNPROCESSABLE_ENTITY",
            "message": "dailyBudget must be at least 10.00"}  # fmt: skip
    api = ReplayedApi([("POST", "/adCampaigns", httpx.Response(422, json=body))])

    with pytest.raises(VendorPermanentError, match=r"dailyBudget must be at least 10\.00"):
        linkedin(api).create_campaign(draft("linkedin"))
