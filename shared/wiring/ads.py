"""The ad manager's adapters built from settings (only entry points import this)."""

from __future__ import annotations

from functools import lru_cache

from shared.ads.firestore import FirestoreAdCampaigns
from shared.ads.local_twin import LocalAdPlatform
from shared.ads.models import PLATFORMS, Platform
from shared.ads.ports import AdPlatform, AdPorts
from shared.wiring.services import services
from shared.wiring.settings import Settings

ADWORDS_SCOPE = "https://www.googleapis.com/auth/adwords"


def _configured(platform: str, values: dict[str, object]) -> bool:
    """True when every setting is given, False when none is; partly set is an error."""
    given = {name for name, value in values.items() if value}
    if given and given != set(values):
        missing = ", ".join(sorted(set(values) - given))
        raise ValueError(f"{platform} ads are partly configured: set {missing} too, or none")
    return bool(given)


def real_platform(name: Platform, settings: Settings) -> AdPlatform | None:
    """The platform's API client when its settings are all given, else None."""
    if name == "google_ads" and _configured(
        name,
        {"google_ads_customer_id": settings.google_ads_customer_id,
         "google_ads_developer_token": settings.google_ads_developer_token},
    ):  # fmt: skip
        from shared.adapters.vendors.sheets import google_token_provider
        from shared.ads.google_ads import GoogleAdsPlatform

        assert settings.google_ads_customer_id and settings.google_ads_developer_token
        return GoogleAdsPlatform(
            settings.google_ads_customer_id,
            settings.google_ads_developer_token.get_secret_value(),
            google_token_provider(scopes=(ADWORDS_SCOPE,)),
            login_customer_id=settings.google_ads_login_customer_id,
            version=settings.google_ads_api_version,
        )
    if name == "meta" and _configured(
        name,
        {"meta_ad_account_id": settings.meta_ad_account_id,
         "meta_access_token": settings.meta_access_token, "meta_page_id": settings.meta_page_id},
    ):  # fmt: skip
        from shared.ads.meta import MetaAdsPlatform

        assert settings.meta_ad_account_id and settings.meta_access_token and settings.meta_page_id
        return MetaAdsPlatform(
            settings.meta_ad_account_id,
            settings.meta_access_token.get_secret_value(),
            page_id=settings.meta_page_id,
            countries=settings.ads_countries,
            custom_audiences=settings.meta_custom_audiences,
            version=settings.meta_api_version,
        )
    if name == "linkedin" and _configured(
        name,
        {"linkedin_ad_account_id": settings.linkedin_ad_account_id,
         "linkedin_ads_access_token": settings.linkedin_ads_access_token,
         "linkedin_campaign_group_id": settings.linkedin_campaign_group_id},
    ):  # fmt: skip
        from shared.ads.linkedin import LinkedInAdsPlatform

        assert settings.linkedin_ad_account_id and settings.linkedin_ads_access_token
        assert settings.linkedin_campaign_group_id
        return LinkedInAdsPlatform(
            settings.linkedin_ad_account_id,
            settings.linkedin_ads_access_token.get_secret_value(),
            campaign_group_id=settings.linkedin_campaign_group_id,
        )
    return None


@lru_cache(maxsize=1)
def ad_ports() -> AdPorts:
    """Every platform's account (its API, or its twin) and our records, sharing one client."""
    svc = services()
    platforms: dict[Platform, AdPlatform] = {}
    for name in PLATFORMS:
        real = real_platform(name, svc.settings)
        platforms[name] = real or LocalAdPlatform(
            name, svc.settings.project_id, client=svc.store.client
        )
    return AdPorts(
        platforms=platforms,
        store=FirestoreAdCampaigns(svc.settings.project_id, client=svc.store.client),
    )
