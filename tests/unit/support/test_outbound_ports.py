"""The outbound ports: local implementations, the adapter registry, the rate-limited sender."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from shared.adapters.vendors.linkedin_messaging import LinkedInComments
from shared.adapters.vendors.slack import SlackClient
from shared.adapters.vendors.tiktok_messaging import TikTokMessaging
from shared.adapters.vendors.zendesk import ZendeskClient
from shared.http.errors import VendorRetryableError
from shared.support.outbound import (
    InvalidConversationKeyError,
    LocalNotifier,
    LocalReplySender,
    Notifier,
    OutboundConfigError,
    RateLimitedReplySender,
    ReplySender,
    SentReply,
    split_conversation_key,
)
from shared.support.ratelimit import OutboundLimiter, OutboundRateLimited
from shared.wiring.support import escalation_tickets_for, notifier_for, reply_sender_for

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "vendors"
TIKTOK_KEY = "tiktok:0:1:7418290164882556934:7343915108926244870"

CREDENTIALS: dict[str, Any] = {
    "tiktok_access_token": SecretStr("act.tiktok-token"),
    "tiktok_business_id": "-000Mw3kF0Bb3kLa0mHkqpx6Ef9gZBfYz8Kd",
    "linkedin_access_token": SecretStr("AQX-linkedin-token"),
    "linkedin_organization_urn": "urn:li:organization:96072893",
    "zendesk_subdomain": "acme",
    "zendesk_email": "support-bot@acme.example",
    "zendesk_api_token": SecretStr("zendesk-token"),
    "slack_bot_token": SecretStr("xoxb-slack-token"),
    "slack_channel": "C07QK2N3V8M",
}


class FakeClock:
    """Time that moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingSender:
    """A ReplySender that records calls and fails as told."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str, str, str]] = []
        self.error = error

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        self.calls.append((conversation_key, in_reply_to, text, idempotency_key))
        if self.error:
            raise self.error
        return SentReply(platform_message_id=f"sent-{len(self.calls)}")


def test_the_local_sender_sends_nothing_and_returns_no_id() -> None:
    sent = LocalReplySender().send_reply("generic:c-19", "m-7", "Hello!", "generic:m-7")

    assert sent == SentReply(platform_message_id=None, deduplicated=False)


def test_the_local_sender_still_refuses_a_malformed_key() -> None:
    with pytest.raises(InvalidConversationKeyError):
        LocalReplySender().send_reply("no-platform", "m-7", "Hello!", "k")


def test_the_local_notifier_returns_without_network() -> None:
    notifier: Notifier = LocalNotifier()

    notifier.notify("ticket-generic:m-7", "needs a person")  # nothing to assert but no error


def test_conversation_keys_split_on_the_first_colon_only() -> None:
    assert split_conversation_key(TIKTOK_KEY) == (
        "tiktok",
        "0:1:7418290164882556934:7343915108926244870",
    )
    for bad in ("", "tiktok", "tiktok:", ":123"):
        with pytest.raises(InvalidConversationKeyError):
            split_conversation_key(bad)


@pytest.mark.parametrize("platform", ["tiktok", "linkedin", "zendesk", "generic"])
def test_without_credentials_every_platform_replies_locally(platform: str) -> None:
    assert isinstance(reply_sender_for(platform, {}), LocalReplySender)


def test_empty_or_blank_credentials_count_as_unset() -> None:
    unset = {"tiktok_access_token": "", "tiktok_business_id": None}

    assert isinstance(reply_sender_for("tiktok", unset), LocalReplySender)
    assert isinstance(reply_sender_for("tiktok", {"tiktok_access_token": "  "}), LocalReplySender)


def test_configured_platforms_get_their_vendor_adapter() -> None:
    assert isinstance(reply_sender_for("tiktok", CREDENTIALS), TikTokMessaging)
    assert isinstance(reply_sender_for("linkedin", CREDENTIALS), LinkedInComments)
    assert isinstance(reply_sender_for("zendesk", CREDENTIALS), ZendeskClient)
    assert isinstance(reply_sender_for("generic", CREDENTIALS), LocalReplySender)
    assert isinstance(notifier_for(CREDENTIALS), SlackClient)
    assert isinstance(escalation_tickets_for(CREDENTIALS), ZendeskClient)


def test_without_slack_or_zendesk_escalations_stay_local() -> None:
    assert isinstance(notifier_for({}), LocalNotifier)
    assert escalation_tickets_for({}) is None


def test_a_partly_configured_vendor_names_what_is_missing() -> None:
    partial = {"zendesk_subdomain": "acme", "zendesk_api_token": SecretStr("t")}

    with pytest.raises(OutboundConfigError) as caught:
        reply_sender_for("zendesk", partial)

    assert (
        str(caught.value) == "zendesk is configured in part: set CONTROLROOM_ZENDESK_EMAIL as well"
    )
    with pytest.raises(OutboundConfigError, match="CONTROLROOM_SLACK_CHANNEL"):
        notifier_for({"slack_bot_token": "xoxb-1"})


def test_an_unknown_platform_is_refused() -> None:
    with pytest.raises(OutboundConfigError):
        reply_sender_for("myspace", CREDENTIALS)


def test_with_a_limiter_vendor_senders_are_rate_limited_and_local_ones_not() -> None:
    limiter = OutboundLimiter()

    tiktok = reply_sender_for("tiktok", CREDENTIALS, limiter=limiter)

    assert isinstance(tiktok, RateLimitedReplySender)
    assert isinstance(tiktok.sender, TikTokMessaging)
    assert isinstance(reply_sender_for("generic", CREDENTIALS, limiter=limiter), LocalReplySender)
    assert isinstance(reply_sender_for("tiktok", {}, limiter=limiter), LocalReplySender)


def test_the_registry_builds_a_working_sender_on_the_given_client() -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        body = json.loads((PAYLOADS / "tiktok_message_send.json").read_text())
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(answer))
    sender: ReplySender = reply_sender_for("tiktok", CREDENTIALS, client=client)

    sent = sender.send_reply(TIKTOK_KEY, "7419038219477393670", "Shipped today.", "k")

    assert sent.platform_message_id == "7431152689024372998"
    assert requests[0].headers["Access-Token"] == "act.tiktok-token"


def test_the_rate_limited_sender_waits_for_its_slot_before_sending() -> None:
    clock = FakeClock()
    limiter = OutboundLimiter.from_per_minute(
        {"tiktok": 1}, max_wait_s=120, clock=clock, sleep=clock.sleep
    )
    inner = RecordingSender()
    sender = RateLimitedReplySender(inner, "tiktok", limiter)

    sender.send_reply(TIKTOK_KEY, "m1", "first", "k1")
    sender.send_reply(TIKTOK_KEY, "m2", "second", "k2")

    assert clock.sleeps == pytest.approx([60.0])
    assert [call[2] for call in inner.calls] == ["first", "second"]


def test_over_the_limit_the_reply_is_refused_retryably_and_not_sent() -> None:
    clock = FakeClock()
    limiter = OutboundLimiter.from_per_minute(
        {"tiktok": 1}, max_wait_s=10, clock=clock, sleep=clock.sleep
    )
    inner = RecordingSender()
    sender = RateLimitedReplySender(inner, "tiktok", limiter)
    sender.send_reply(TIKTOK_KEY, "m1", "first", "k1")

    with pytest.raises(OutboundRateLimited) as caught:
        sender.send_reply(TIKTOK_KEY, "m2", "second", "k2")

    assert caught.value.retry_after_s == pytest.approx(60.0)
    assert len(inner.calls) == 1


def test_a_vendor_429_holds_the_platform_off_for_its_retry_after() -> None:
    clock = FakeClock()
    limiter = OutboundLimiter(clock=clock, sleep=clock.sleep)
    throttled = VendorRetryableError("tiktok", "HTTP 429: slow down", status=429, retry_after_s=20)
    sender = RateLimitedReplySender(RecordingSender(throttled), "tiktok", limiter)

    with pytest.raises(VendorRetryableError):
        sender.send_reply(TIKTOK_KEY, "m1", "first", "k1")

    assert limiter.acquire("tiktok") == pytest.approx(20.0)
