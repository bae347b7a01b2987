"""Slack: escalation notices posted once per key, recognised again by their message metadata.

API: https://slack.com/api/<method>, a bot token (`xoxb-...`) as `Authorization: Bearer`.
Scopes: chat:write to post; channels:history (public channel) or groups:history (private) to
read the channel back.

    POST /api/chat.postMessage      (Content-Type: application/json; charset=utf-8)
    {"channel": "C0...", "text": "...",
     "metadata": {"event_type": "controlroom_escalation", "event_payload": {"key": "<key>"}}}
    -> {"ok": true, "channel": "C0...", "ts": "1730120712.004900", "message": {...}}

    GET /api/conversations.history?channel=C0...&limit=<lookback>&include_all_metadata=true
    -> {"ok": true, "messages": [{"ts", "text", "metadata": {"event_type", "event_payload"}},
        ...], "has_more": bool}

Slack answers most failures with HTTP 200 and `{"ok": false, "error": "<code>"}`: the codes
ratelimited, internal_error, fatal_error, service_unavailable and request_timeout raise
VendorRetryableError; every other code (channel_not_found, not_in_channel, invalid_auth,
missing_scope, is_archived, msg_too_long, ...) raises VendorPermanentError with the code and
Slack's `response_metadata.messages`. A throttled call is HTTP 429 with Retry-After and
`{"ok": false, "error": "ratelimited"}`: VendorRetryableError carrying retry_after_s.

Dedupe (`notify`): the channel's newest `lookback` messages are read first, and the notice is
posted only if none carries event_type "controlroom_escalation" with event_payload.key equal
to the key. What that gives: a repeated notify - a Pub/Sub redelivery, even after a crash
right after the post - posts nothing twice, as long as fewer than `lookback` messages have
reached the channel since. What it does not: two deliveries at the same moment can both look,
both miss, and both post. The post is tried once per look-up (a retryable failure propagates
and the redelivery looks again), so no in-process retry can post twice.

The channel must be given by ID (C0123ABCDEF): conversations.history takes no names. Slack
limits conversations.history to 1 request a minute and 15 messages for commercially
distributed apps outside its Marketplace (since 2025); an app installed as its own
workspace's internal app is not affected, which is how controlroom is meant to be installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError, VendorRetryableError

SLACK_API = "https://slack.com/api"
VENDOR = "slack"
ESCALATION_EVENT_TYPE = "controlroom_escalation"
MAX_HISTORY_LIMIT = 999

Model = TypeVar("Model", bound=BaseModel)

RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class _SlackObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Metadata(_SlackObject):
    event_type: str | None = None
    event_payload: dict[str, Any] = Field(default_factory=dict)


class _Message(_SlackObject):
    ts: str
    text: str | None = None
    metadata: _Metadata | None = None


class _History(_SlackObject):
    messages: list[_Message]


class _Posted(_SlackObject):
    ts: str
    channel: str | None = None


@dataclass(frozen=True)
class SlackNotice:
    """The message that carries one notice, and whether it was there before this call."""

    ts: str
    deduplicated: bool


class SlackClient:
    """The Notifier port on one Slack channel, posting each notice once."""

    def __init__(
        self,
        bot_token: str,
        channel: str,
        *,
        client: httpx.Client | None = None,
        base_url: str = SLACK_API,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        lookback: int = 100,
    ) -> None:
        if not 1 <= lookback <= MAX_HISTORY_LIMIT:
            raise ValueError(f"lookback must be 1-{MAX_HISTORY_LIMIT}, got {lookback}")
        headers = {
            "Authorization": f"Bearer {bot_token}",
            # Slack warns (missing_charset) about JSON bodies without a charset.
            "Content-Type": "application/json; charset=utf-8",
        }
        self.channel = channel
        self.lookback = lookback
        policy = policy or HttpPolicy()
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=policy.timeout())

        def vendor_http(attempts: int) -> VendorHttp:
            return VendorHttp(
                VENDOR,
                base_url,
                auth_headers=lambda: headers,
                error_message=slack_error_message,
                client=self._client,
                policy=policy.model_copy(update={"max_attempts": attempts}),
                sleep=sleep,
            )

        self.http = vendor_http(policy.max_attempts)
        self._post_once = vendor_http(1)

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def notify(self, key: str, text: str) -> None:
        """Post `text` unless a notice with this key is among the channel's recent messages."""
        self.ensure_posted(key, text)

    def ensure_posted(self, key: str, text: str) -> SlackNotice:
        """The notice for `key`: found among recent messages, else posted now."""
        earlier = self.find_notice(key)
        if earlier is not None:
            return SlackNotice(ts=earlier, deduplicated=True)
        metadata = {"event_type": ESCALATION_EVENT_TYPE, "event_payload": {"key": key}}
        return SlackNotice(ts=self.post_message(text, metadata=metadata), deduplicated=False)

    def find_notice(self, key: str) -> str | None:
        """The ts of a recent channel message whose metadata carries `key`, or None."""
        params = [
            ("channel", self.channel),
            ("limit", str(self.lookback)),
            ("include_all_metadata", "true"),
        ]
        body = self.http.request_json("GET", "/conversations.history", params=params)
        history = _parse(_History, _checked(body, "conversations.history"))
        for message in history.messages:
            meta = message.metadata
            if (
                meta is not None
                and meta.event_type == ESCALATION_EVENT_TYPE
                and str(meta.event_payload.get("key")) == key
            ):
                return message.ts
        return None

    def post_message(self, text: str, *, metadata: dict[str, Any] | None = None) -> str:
        """Post to the channel (one attempt); the message's ts."""
        payload: dict[str, Any] = {"channel": self.channel, "text": text}
        if metadata is not None:
            payload["metadata"] = metadata
        body = self._post_once.request_json("POST", "/chat.postMessage", json=payload)
        return _parse(_Posted, _checked(body, "chat.postMessage")).ts


def slack_error_message(body: Any) -> str | None:
    """Slack's error code, with the explanations it sometimes adds."""
    error = body.get("error")
    if not error:
        return None
    messages = (body.get("response_metadata") or {}).get("messages") or []
    return f"{error} ({'; '.join(map(str, messages))})" if messages else str(error)


def _checked(body: Any, method: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise VendorPermanentError(VENDOR, f"{method}: the answer is not a JSON object")
    if body.get("ok") is True:
        return body
    message = f"{method}: {slack_error_message(body) or 'ok is false without an error code'}"
    if body.get("error") in RETRYABLE_ERRORS:
        raise VendorRetryableError(VENDOR, message, status=200)
    raise VendorPermanentError(VENDOR, message, status=200)


def _parse(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise VendorPermanentError(VENDOR, f"unexpected response shape: {error}") from error
