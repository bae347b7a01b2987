"""Which ad platform the ad manager talks to: the real API when configured, else the twin."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from shared.ads.google_ads import GoogleAdsPlatform
from shared.ads.linkedin import LinkedInAdsPlatform
from shared.ads.meta import MetaAdsPlatform
from shared.wiring.ads import real_platform
from shared.wiring.settings import Settings


def settings(**values: object) -> Settings:
    return Settings.model_validate({"project_id": "demo-test", **values})


def test_no_credentials_means_the_local_twin_for_every_platform() -> None:
    assert [real_platform(p, settings()) for p in ("google_ads", "meta", "linkedin")] == [None] * 3


def test_complete_credentials_select_each_platforms_api_client() -> None:
    configured = settings(
        meta_ad_account_id="act_1", meta_access_token=SecretStr("t"), meta_page_id="9",
        linkedin_ad_account_id="5", linkedin_ads_access_token=SecretStr("t"),
        linkedin_campaign_group_id="6",
    )  # fmt: skip

    assert isinstance(real_platform("meta", configured), MetaAdsPlatform)
    assert isinstance(real_platform("linkedin", configured), LinkedInAdsPlatform)
    assert real_platform("google_ads", configured) is None


def test_google_ads_takes_its_token_from_application_default_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "shared.adapters.vendors.sheets.google_token_provider", lambda **kw: lambda: "ya29"
    )
    configured = settings(google_ads_customer_id="123-456-7890",
                          google_ads_developer_token=SecretStr("dev"))  # fmt: skip

    client = real_platform("google_ads", configured)

    assert isinstance(client, GoogleAdsPlatform) and client.customer_id == "1234567890"


def test_partly_configured_platforms_are_refused_naming_what_is_missing() -> None:
    with pytest.raises(ValueError, match="meta ads are partly configured: set meta_page_id"):
        real_platform("meta", settings(meta_ad_account_id="act_1",
                                       meta_access_token=SecretStr("t")))  # fmt: skip
