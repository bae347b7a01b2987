"""Slack escalation notices against recorded responses, the network swapped at the transport."""

from __future__ import annotations

import json

import httpx
import pytest

from shared.adapters.vendors.slack import SlackClient, SlackNotice
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from tests.helpers.vendor_replay import Replay, payload

TOKEN = "xoxb-7812345678901-7809876543210-Qm3xVb8TzK2LpN5wR9cYdF1a"
CHANNEL = "C07QK2N3V8M"
KEY = "ticket-tiktok:7419038219477393670"
TEXT = (
    "Conversation tiktok:0:1:7418290164882556934:7343915108926244870 needs a person: "
    "refund request over the automatic limit"
)
NO_RETRY = HttpPolicy(max_attempts=1)


def slack(replay: Replay, policy: HttpPolicy | None = None) -> SlackClient:
    return SlackClient(TOKEN, CHANNEL, client=replay.client(), policy=policy, sleep=lambda _: None)


def ok(name: str) -> httpx.Response:
    return httpx.Response(200, json=payload(name))


def test_a_notice_looks_at_recent_messages_then_posts_with_its_metadata() -> None:
    replay = Replay(ok("slack_conversations_history.json"), ok("slack_chat_post_message.json"))

    notice = slack(replay).ensure_posted(KEY, TEXT)

    assert notice == SlackNotice(ts="1730120712.004900", deduplicated=False)
    history, post = replay.requests
    assert (history.method, history.url.host, history.url.path) == (
        "GET",
        "slack.com",
        "/api/conversations.history",
    )
    assert dict(history.url.params) == {
        "channel": CHANNEL,
        "limit": "100",
        "include_all_metadata": "true",
    }
    assert (post.method, post.url.path) == ("POST", "/api/chat.postMessage")
    for request in (history, post):
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(post.content) == {
        "channel": CHANNEL,
        "text": TEXT,
        "metadata": {"event_type": "controlroom_escalation", "event_payload": {"key": KEY}},
    }


def test_notifying_twice_posts_once() -> None:
    replay = Replay(
        ok("slack_conversations_history.json"),
        ok("slack_chat_post_message.json"),
        ok("slack_conversations_history_with_notice.json"),
    )
    client = slack(replay)

    client.notify(KEY, TEXT)
    again = client.ensure_posted(KEY, TEXT)

    assert again == SlackNotice(ts="1730120712.004900", deduplicated=True)
    assert [(r.method, r.url.path) for r in replay.requests] == [
        ("GET", "/api/conversations.history"),
        ("POST", "/api/chat.postMessage"),
        ("GET", "/api/conversations.history"),
    ]


def test_a_notice_of_another_key_does_not_count() -> None:
    # The history holds another escalation's notice; this key has none yet.
    replay = Replay(ok("slack_conversations_history.json"), ok("slack_chat_post_message.json"))

    notice = slack(replay).ensure_posted("ticket-zendesk:31420698765", "Ticket 5158 needs a person")

    assert not notice.deduplicated
    assert len(replay.requests) == 2


def test_429_ratelimited_is_retryable_with_the_retry_after() -> None:
    replay = Replay(
        httpx.Response(
            429, json=payload("slack_error_ratelimited.json"), headers={"Retry-After": "30"}
        )
    )

    with pytest.raises(VendorRetryableError) as caught:
        slack(replay, NO_RETRY).notify(KEY, TEXT)

    error = caught.value
    assert (error.vendor, error.status, error.retry_after_s) == ("slack", 429, 30.0)
    assert str(error) == "slack: HTTP 429: ratelimited"


def test_a_throttled_post_is_not_retried_without_a_new_lookup() -> None:
    replay = Replay(
        ok("slack_conversations_history.json"),
        httpx.Response(
            429, json=payload("slack_error_ratelimited.json"), headers={"Retry-After": "1"}
        ),
    )

    with pytest.raises(VendorRetryableError):
        slack(replay).notify(KEY, TEXT)  # the default policy would retry a plain request

    assert [r.method for r in replay.requests] == ["GET", "POST"]


def test_ok_false_with_a_permanent_code_is_permanent_with_slacks_code() -> None:
    replay = Replay(ok("slack_error_channel_not_found.json"))

    with pytest.raises(VendorPermanentError) as caught:
        slack(replay).notify(KEY, TEXT)

    assert str(caught.value) == "slack: conversations.history: channel_not_found"
    assert caught.value.status == 200
    assert len(replay.requests) == 1


def test_ok_false_on_post_carries_slacks_explanations() -> None:
    replay = Replay(
        ok("slack_conversations_history.json"), ok("slack_error_invalid_arguments.json")
    )

    with pytest.raises(VendorPermanentError) as caught:
        slack(replay).notify(KEY, TEXT)

    assert str(caught.value) == (
        "slack: chat.postMessage: invalid_arguments ([ERROR] failed to match all allowed schemas"
        " [json-pointer:/metadata]; [ERROR] must provide an object"
        " [json-pointer:/metadata/event_payload])"
    )


def test_ok_false_with_a_transient_code_is_retryable() -> None:
    replay = Replay(httpx.Response(200, json={"ok": False, "error": "internal_error"}))

    with pytest.raises(VendorRetryableError) as caught:
        slack(replay).notify(KEY, TEXT)

    assert caught.value.retry_after_s is None
