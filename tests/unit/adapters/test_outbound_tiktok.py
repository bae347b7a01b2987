"""TikTok Business Messaging replies against recorded responses, at the transport."""

from __future__ import annotations

import json

import httpx
import pytest

from shared.adapters.vendors.tiktok_messaging import TikTokMessaging
from shared.core.errors import PermanentError
from shared.core.messages import conversation_key
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from shared.support.outbound import InvalidConversationKeyError, SentReply
from tests.helpers.vendor_replay import Replay, payload

TOKEN = "act.3f9a1c0e5b7d2a4c6e8f0b1d3a5c7e9f1b3d5f7a9c1e3a5c7e9b1d3f5a7c9e1"
BUSINESS_ID = "-000Mw3kF0Bb3kLa0mHkqpx6Ef9gZBfYz8Kd"
CONVERSATION_ID = "0:1:7418290164882556934:7343915108926244870"
KEY = conversation_key("tiktok", CONVERSATION_ID)
NO_RETRY = HttpPolicy(max_attempts=1)


def tiktok(replay: Replay, policy: HttpPolicy | None = None) -> TikTokMessaging:
    return TikTokMessaging(
        TOKEN, BUSINESS_ID, client=replay.client(), policy=policy, sleep=lambda _: None
    )


def test_a_reply_is_a_text_message_to_the_conversation() -> None:
    replay = Replay(httpx.Response(200, json=payload("tiktok_message_send.json")))

    sent = tiktok(replay).send_reply(
        KEY, "7419038219477393670", "Your order #4821 ships today.", "tiktok:7419038219477393670"
    )

    assert sent == SentReply(platform_message_id="7431152689024372998", deduplicated=False)
    (request,) = replay.requests
    assert request.method == "POST"
    assert request.url.host == "business-api.tiktok.com"
    assert request.url.path == "/open_api/v1.3/business/message/send/"
    assert request.headers["Access-Token"] == TOKEN
    assert "Authorization" not in request.headers
    assert json.loads(request.content) == {
        "business_id": BUSINESS_ID,
        "recipient_type": "CONVERSATION",
        "recipient": CONVERSATION_ID,
        "message_type": "TEXT",
        "text": {"body": "Your order #4821 ships today."},
    }


def test_tiktoks_rate_limit_code_is_retryable() -> None:
    replay = Replay(httpx.Response(200, json=payload("tiktok_error_40100.json")))

    with pytest.raises(VendorRetryableError) as caught:
        tiktok(replay).send_reply(KEY, "m1", "hello", "tiktok:m1")

    assert caught.value.vendor == "tiktok"
    assert "Too many requests" in str(caught.value)
    assert "code 40100" in str(caught.value)
    assert len(replay.requests) == 1  # an envelope error is not retried in process


def test_http_429_is_retryable_with_the_retry_after() -> None:
    replay = Replay(
        httpx.Response(429, json=payload("tiktok_error_40100.json"), headers={"Retry-After": "12"})
    )

    with pytest.raises(VendorRetryableError) as caught:
        tiktok(replay, NO_RETRY).send_reply(KEY, "m1", "hello", "tiktok:m1")

    assert (caught.value.status, caught.value.retry_after_s) == (429, 12.0)


def test_a_refused_parameter_is_permanent_with_tiktoks_message() -> None:
    replay = Replay(httpx.Response(200, json=payload("tiktok_error_40002.json")))

    with pytest.raises(VendorPermanentError) as caught:
        tiktok(replay).send_reply(KEY, "m1", "hello", "tiktok:m1")

    assert isinstance(caught.value, PermanentError)
    assert str(caught.value) == (
        "tiktok: HTTP 200: Invalid value for recipient: the conversation does not exist or can"
        " no longer be replied to. (code 40002, request_id 20241028113511A0C2E4F6081B3D5F7A93)"
    )


def test_a_key_of_another_platform_is_refused_before_any_call() -> None:
    replay = Replay()

    with pytest.raises(InvalidConversationKeyError):
        tiktok(replay).send_reply("zendesk:5158", "m1", "hello", "zendesk:m1")

    assert replay.requests == []
