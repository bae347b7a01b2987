"""Google Ads REST client against the documented mutate and search shapes, replayed."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from shared.ads.google_ads import GoogleAdsPlatform
from shared.ads.models import Audience, CampaignDraft, Creative
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from tests.helpers.fakes.vendor_api import ReplayedApi

KEY = "cmp-0123456789abcdef"
CUSTOMER = "customers/1234567890"
DRAFT = CampaignDraft(
    campaign_key=KEY,
    platform="google_ads",
    name=f"controlroom pricing-intent [{KEY}]",
    daily_budget_cents=2550,
    audience=Audience(segment="pricing-intent", size=40),
    creatives=(
        Creative(variant="A", headline="Ready when you are", body="Pick up where you left off.",
                 call_to_action="Learn more", landing_url="https://shop.example.com/pricing"),
        Creative(variant="B", headline="See what fits you", body="Compare plans in minutes.",
                 call_to_action="Learn more", landing_url="https://shop.example.com/pricing"),
    ),
)  # fmt: skip


def created(resource: str) -> httpx.Response:
    return httpx.Response(200, json={"results": [{"resourceName": f"{CUSTOMER}/{resource}"}]})


def platform(api: ReplayedApi) -> GoogleAdsPlatform:
    return GoogleAdsPlatform(
        "123-456-7890", "dev-token", lambda: "ya29.token", login_customer_id="999-000-1111",
        version="v26", client=api.client(), policy=HttpPolicy(max_attempts=1),
    )  # fmt: skip


def test_creating_sends_budget_campaign_ad_group_and_one_ad_per_variant() -> None:
    api = ReplayedApi([
        ("POST", "/campaignBudgets:mutate", created("campaignBudgets/11")),
        ("POST", "/campaigns:mutate", created("campaigns/22")),
        ("POST", "/adGroups:mutate", created("adGroups/33")),
        ("POST", "/adGroupAds:mutate", created("adGroupAds/33~44")),
    ])  # fmt: skip

    published = platform(api).create_campaign(DRAFT)

    assert published.external_id == f"{CUSTOMER}/campaigns/22"
    assert published.daily_budget_cents == 2550
    paths = [r.url.path for r in api.requests]
    assert paths == [
        "/v26/customers/1234567890/campaignBudgets:mutate",
        "/v26/customers/1234567890/campaigns:mutate",
        "/v26/customers/1234567890/adGroups:mutate",
        "/v26/customers/1234567890/adGroupAds:mutate",
        "/v26/customers/1234567890/adGroupAds:mutate",
    ]
    first = api.requests[0].headers
    assert first["Authorization"] == "Bearer ya29.token"
    assert first["developer-token"] == "dev-token" and first["login-customer-id"] == "9990001111"
    budget = api.bodies("campaignBudgets:mutate")[0]["operations"][0]["create"]
    assert budget["amountMicros"] == "25500000"  # 25.50 in micros, an int64 as a string
    campaign = api.bodies("campaigns:mutate")[0]["operations"][0]["create"]
    assert campaign["name"] == DRAFT.name and campaign["status"] == "ENABLED"
    assert campaign["campaignBudget"] == f"{CUSTOMER}/campaignBudgets/11"
    ads = [b["operations"][0]["create"] for b in api.bodies("adGroupAds:mutate")]
    assert [a["adGroup"] for a in ads] == [f"{CUSTOMER}/adGroups/33"] * 2
    rsa = ads[1]["ad"]["responsiveSearchAd"]
    assert rsa["headlines"][0] == {"text": "See what fits you"}
    assert len(rsa["headlines"]) == 3 and all(len(h["text"]) <= 30 for h in rsa["headlines"])
    assert all(len(d["text"]) <= 90 for d in rsa["descriptions"])


def test_a_campaign_is_found_by_the_key_in_its_name() -> None:
    row = {"campaign": {"resourceName": f"{CUSTOMER}/campaigns/22", "name": DRAFT.name,
                        "status": "ENABLED"},
           "campaignBudget": {"resourceName": f"{CUSTOMER}/campaignBudgets/11",
                              "amountMicros": "25500000"}}  # fmt: skip
    api = ReplayedApi([("POST", "/googleAds:search", httpx.Response(200, json={"results": [row]}))])

    found = platform(api).find_campaign(KEY)

    assert found is not None and found.daily_budget_cents == 2550 and found.status == "active"
    query = api.bodies("googleAds:search")[0]["query"]
    assert f"campaign.name LIKE '%[{KEY}]%'" in query


def test_a_new_budget_updates_the_campaigns_budget_with_an_update_mask() -> None:
    row = {"campaign": {"resourceName": f"{CUSTOMER}/campaigns/22", "name": DRAFT.name,
                        "status": "ENABLED"},
           "campaignBudget": {"resourceName": f"{CUSTOMER}/campaignBudgets/11"}}  # fmt: skip
    api = ReplayedApi([
        ("POST", "/googleAds:search", httpx.Response(200, json={"results": [row]})),
        ("POST", "/campaignBudgets:mutate", created("campaignBudgets/11")),
    ])  # fmt: skip

    updated = platform(api).set_daily_budget(f"{CUSTOMER}/campaigns/22", 1800)

    operation = api.bodies("campaignBudgets:mutate")[0]["operations"][0]
    assert operation == {
        "update": {"resourceName": f"{CUSTOMER}/campaignBudgets/11", "amountMicros": "18000000"},
        "updateMask": "amountMicros",
    }
    assert updated.campaign_key == KEY and updated.daily_budget_cents == 1800


def test_metrics_become_daily_figures_in_cents() -> None:
    rows = [
        {"campaign": {"resourceName": f"{CUSTOMER}/campaigns/22", "name": DRAFT.name},
         "segments": {"date": "2026-11-19"},
         "metrics": {"impressions": "5120", "clicks": "143", "conversions": 4.5,
                     "costMicros": "23456789", "conversionsValue": 180.25}},
        {"campaign": {"resourceName": f"{CUSTOMER}/campaigns/9", "name": "not ours"},
         "metrics": {"impressions": "1"}},
    ]  # fmt: skip
    api = ReplayedApi([("POST", "/googleAds:search", httpx.Response(200, json={"results": rows}))])

    [day] = platform(api).daily_performance(date(2026, 11, 19))

    assert (day.campaign_key, day.impressions, day.clicks, day.conversions) == (KEY, 5120, 143, 4.5)
    assert day.spend_cents == 2346 and day.conversion_value_cents == 18025
    assert "segments.date = '2026-11-19'" in api.bodies("googleAds:search")[0]["query"]


@pytest.mark.parametrize(("status", "error"), [(429, VendorRetryableError),
                                               (400, VendorPermanentError)])  # fmt: skip
def test_errors_carry_the_google_ads_failure_message(status: int, error: type[Exception]) -> None:
    failure = {
        "@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
        "errors": [{"message": "The budget amount is too small."}],
    }
    body = {"error": {"code": status, "message": "Request contains an invalid argument.",
                      "status": "INVALID_ARGUMENT", "details": [failure]}}  # fmt: skip
    api = ReplayedApi([("POST", "/campaignBudgets:mutate", httpx.Response(status, json=body))])

    with pytest.raises(error, match="budget amount is too small"):
        platform(api).create_campaign(DRAFT)
