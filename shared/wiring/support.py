"""Builds the support agent's outbound adapters (replies, notices, tickets) from settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from shared.support.outbound import (
    EscalationTickets,
    LocalNotifier,
    LocalReplySender,
    Notifier,
    OutboundConfigError,
    RateLimitedReplySender,
    ReplySender,
)

if TYPE_CHECKING:
    import httpx

    from shared.adapters.vendors.zendesk import ZendeskClient
    from shared.http.client import HttpPolicy
    from shared.support.ratelimit import OutboundLimiter

Credentials = Mapping[str, Any]

# The credentials each vendor needs, by proposed Settings field name (all or none).
TIKTOK_CREDENTIALS = ("tiktok_access_token", "tiktok_business_id")
LINKEDIN_CREDENTIALS = ("linkedin_access_token", "linkedin_organization_urn")
ZENDESK_CREDENTIALS = ("zendesk_subdomain", "zendesk_email", "zendesk_api_token")
SLACK_CREDENTIALS = ("slack_bot_token", "slack_channel")
LOCAL_PLATFORMS = frozenset({"generic"})


def reply_sender_for(
    platform: str,
    credentials: Credentials,
    *,
    limiter: OutboundLimiter | None = None,
    client: httpx.Client | None = None,
    policy: HttpPolicy | None = None,
) -> ReplySender:
    """The sender for replies on `platform`: its vendor adapter if configured, else local.

    Build it once per process and keep it (it holds an HTTP client). With a limiter, vendor
    senders wait for the platform's send slot; the local sender is never limited.
    """
    sender: ReplySender
    if platform in LOCAL_PLATFORMS:
        return LocalReplySender()
    if platform == "tiktok":
        tiktok = _configured("tiktok", credentials, TIKTOK_CREDENTIALS)
        if tiktok is None:
            return LocalReplySender()
        from shared.adapters.vendors.tiktok_messaging import TikTokMessaging

        token, business_id = tiktok
        sender = TikTokMessaging(token, business_id, client=client, policy=policy)
    elif platform == "linkedin":
        linkedin = _configured("linkedin", credentials, LINKEDIN_CREDENTIALS)
        if linkedin is None:
            return LocalReplySender()
        from shared.adapters.vendors.linkedin_messaging import LinkedInComments
        from shared.http.linkedin import LINKEDIN_API_VERSION

        token, organization_urn = linkedin
        sender = LinkedInComments(
            token,
            organization_urn,
            api_version=_value(credentials, "linkedin_api_version") or LINKEDIN_API_VERSION,
            client=client,
            policy=policy,
        )
    elif platform == "zendesk":
        zendesk = _zendesk(credentials, client, policy)
        if zendesk is None:
            return LocalReplySender()
        sender = zendesk
    else:
        raise OutboundConfigError(f"no reply sender for platform {platform[:40]!r}")
    return RateLimitedReplySender(sender, platform, limiter) if limiter else sender


def notifier_for(
    credentials: Credentials,
    *,
    client: httpx.Client | None = None,
    policy: HttpPolicy | None = None,
) -> Notifier:
    """Slack if a bot token and channel are configured, else the local notifier."""
    slack = _configured("slack", credentials, SLACK_CREDENTIALS)
    if slack is None:
        return LocalNotifier()
    from shared.adapters.vendors.slack import SlackClient

    token, channel = slack
    return SlackClient(token, channel, client=client, policy=policy)


def escalation_tickets_for(
    credentials: Credentials,
    *,
    client: httpx.Client | None = None,
    policy: HttpPolicy | None = None,
) -> EscalationTickets | None:
    """Zendesk if configured; None when the Firestore tickets/ collection is the only helpdesk."""
    return _zendesk(credentials, client, policy)


def _zendesk(
    credentials: Credentials, client: httpx.Client | None, policy: HttpPolicy | None
) -> ZendeskClient | None:
    zendesk = _configured("zendesk", credentials, ZENDESK_CREDENTIALS)
    if zendesk is None:
        return None
    from shared.adapters.vendors.zendesk import ZendeskClient

    subdomain, email, api_token = zendesk
    return ZendeskClient(subdomain, email, api_token, client=client, policy=policy)


def _configured(vendor: str, credentials: Credentials, names: tuple[str, ...]) -> list[str] | None:
    values = [_value(credentials, name) for name in names]
    present = [v for v in values if v is not None]
    if not present:
        return None
    if len(present) < len(names):
        missing = [n for n, v in zip(names, values, strict=True) if v is None]
        env = ", ".join(f"CONTROLROOM_{n.upper()}" for n in missing)
        raise OutboundConfigError(f"{vendor} is configured in part: set {env} as well")
    return [v for v in values if v is not None]


def _value(credentials: Credentials, name: str) -> str | None:
    value = credentials.get(name)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def send_offline_answers(credentials: Credentials, setting: bool | None) -> bool:
    """Whether offline (extractive) answers go to customers: the setting, or, unset, only
    while no live platform is configured."""
    if setting is not None:
        return setting
    live = (TIKTOK_CREDENTIALS, LINKEDIN_CREDENTIALS, ZENDESK_CREDENTIALS)
    return not any(_value(credentials, name) for names in live for name in names)
