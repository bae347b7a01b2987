"""SendGrid Mail Send and Email Activity against recorded responses, at the transport."""

from __future__ import annotations

import json

import httpx
import pytest

from shared.email import EmailNotAcceptedError, OutgoingEmail, SentEmail
from shared.email.sendgrid import SendGridEmailSender
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from tests.helpers.vendor_replay import Replay, payload

API_KEY = "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"
SENDER = "Shop <hello@shop.example>"
KEY = "winback-run_2026_11_16-cus_0042-5f1c2a9e8b7d6c4f"
X_MESSAGE_ID = "nWkbN1XgSyaKkxbEtOtM6g"
EMAIL = OutgoingEmail(
    to="Ana Diaz <ana.diaz@example.com>",
    subject="We miss you, Ana",
    text="Come back for 20% off.",
    html="<p>Come back for 20% off.</p>",
    idempotency_key=KEY,
)


def sendgrid(replay: Replay, **options: object) -> tuple[SendGridEmailSender, list[float]]:
    waits: list[float] = []
    sender = SendGridEmailSender(
        API_KEY,
        SENDER,
        client=replay.client(),
        sleep=waits.append,
        **options,  # type: ignore[arg-type]
    )
    return sender, waits


def accepted() -> httpx.Response:
    return httpx.Response(202, headers={"X-Message-Id": X_MESSAGE_ID})


def error(status: int, name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=payload(name), headers=headers)


def test_a_send_posts_the_documented_body_with_the_key() -> None:
    replay = Replay(accepted())
    sender, _ = sendgrid(replay)

    sent = sender.send(EMAIL)

    assert sent == SentEmail(provider="sendgrid", provider_message_id=X_MESSAGE_ID)
    (request,) = replay.requests
    assert (request.method, str(request.url)) == ("POST", "https://api.sendgrid.com/v3/mail/send")
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "personalizations": [{"to": [{"email": "ana.diaz@example.com", "name": "Ana Diaz"}]}],
        "from": {"email": "hello@shop.example", "name": "Shop"},
        "subject": "We miss you, Ana",
        "content": [
            {"type": "text/plain", "value": "Come back for 20% off."},
            {"type": "text/html", "value": "<p>Come back for 20% off.</p>"},
        ],
        "headers": {"Message-ID": f"<{KEY}@controlroom>", "X-Controlroom-Key": KEY},
        "custom_args": {"controlroom_key": KEY},
    }


def test_the_emails_own_headers_join_the_key_headers() -> None:
    replay = Replay(accepted())
    sender, _ = sendgrid(replay)
    headers = {"List-Unsubscribe": "<https://s.example/u>", "List-Unsubscribe-Post": "x=y"}

    sender.send(EMAIL.model_copy(update={"headers": headers}))

    sent_headers = json.loads(replay.requests[0].content)["headers"]
    assert sent_headers == {
        **headers,
        "Message-ID": f"<{KEY}@controlroom>",
        "X-Controlroom-Key": KEY,
    }


def test_a_text_only_email_has_one_content_part_and_no_name_when_none_given() -> None:
    replay = Replay(accepted())
    sender, _ = sendgrid(replay)

    sender.send(EMAIL.model_copy(update={"html": None, "to": "ana.diaz@example.com"}))

    body = json.loads(replay.requests[0].content)
    assert body["content"] == [{"type": "text/plain", "value": "Come back for 20% off."}]
    assert body["personalizations"] == [{"to": [{"email": "ana.diaz@example.com"}]}]


def test_find_sent_queries_email_activity_by_the_custom_arg() -> None:
    replay = Replay(httpx.Response(200, json=payload("sendgrid_messages_found.json")))
    sender, _ = sendgrid(replay)

    found = sender.find_sent(KEY)

    assert found == SentEmail(
        provider="sendgrid",
        provider_message_id="nWkbN1XgSyaKkxbEtOtM6g.filterdrecv-5bbd6d8c7b-9xk2j-1-6738F1A2-3C.0",
    )
    (request,) = replay.requests
    assert (request.method, request.url.path) == ("GET", "/v3/messages")
    assert dict(request.url.params) == {
        "limit": "10",
        "query": f"unique_args['controlroom_key']=\"{KEY}\"",
    }
    # The query goes URL-encoded, as the Email Activity API requires.
    assert "query=unique_args%5B%27controlroom_key%27%5D%3D%22" in str(request.url)
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_find_sent_is_none_when_activity_has_no_such_message() -> None:
    sender, _ = sendgrid(Replay(httpx.Response(200, json=payload("sendgrid_messages_none.json"))))

    assert sender.find_sent(KEY) is None


def test_find_sent_asks_nothing_when_the_activity_lookup_is_off() -> None:
    replay = Replay()
    sender, _ = sendgrid(replay, activity_lookup=False)

    assert sender.find_sent(KEY) is None
    assert replay.requests == []


def test_a_429_is_retried_after_its_retry_after_then_sent_once() -> None:
    replay = Replay(error(429, "sendgrid_error_429.json", {"Retry-After": "2"}), accepted())
    sender, waits = sendgrid(replay)

    assert sender.send(EMAIL).provider_message_id == X_MESSAGE_ID
    assert waits == [2.0]
    assert len(replay.requests) == 2


def test_a_429_that_persists_propagates_as_not_accepted() -> None:
    replay = Replay(*(error(429, "sendgrid_error_429.json") for _ in range(3)))
    sender, waits = sendgrid(replay)

    with pytest.raises(EmailNotAcceptedError, match="too many requests") as caught:
        sender.send(EMAIL)
    assert caught.value.status == 429
    assert len(replay.requests) == 3
    assert waits == [0.5, 1.0]


def test_a_refused_connection_is_retried() -> None:
    request = httpx.Request("POST", "https://api.sendgrid.com/v3/mail/send")
    replay = Replay(httpx.ConnectError("connection refused", request=request), accepted())
    sender, _ = sendgrid(replay)

    assert sender.send(EMAIL).provider == "sendgrid"
    assert len(replay.requests) == 2


@pytest.mark.parametrize(
    "outcome",
    [
        httpx.Response(500, text="internal error"),
        httpx.Response(503, text="unavailable"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
def test_a_failure_that_may_hide_a_sent_email_is_not_retried(
    outcome: httpx.Response | Exception,
) -> None:
    replay = Replay(outcome)
    sender, _ = sendgrid(replay)

    with pytest.raises(VendorRetryableError) as caught:
        sender.send(EMAIL)
    assert not isinstance(caught.value, EmailNotAcceptedError)
    assert len(replay.requests) == 1


@pytest.mark.parametrize(
    ("status", "name", "words"),
    [
        (400, "sendgrid_error_400.json", "verified Sender Identity. .* \\(from\\)"),
        (401, "sendgrid_error_401.json", "authorization grant is invalid"),
    ],
)
def test_a_refusal_is_permanent_with_sendgrids_words(status: int, name: str, words: str) -> None:
    replay = Replay(error(status, name))
    sender, _ = sendgrid(replay)

    with pytest.raises(VendorPermanentError, match=words) as caught:
        sender.send(EMAIL)
    assert caught.value.status == status
    assert len(replay.requests) == 1


def test_an_activity_lookup_without_the_add_on_is_a_permanent_error() -> None:
    sender, _ = sendgrid(Replay(error(401, "sendgrid_error_401.json")))

    with pytest.raises(VendorPermanentError, match="authorization grant"):
        sender.find_sent(KEY)


def test_an_activity_lookup_is_retried_on_5xx() -> None:
    replay = Replay(
        httpx.Response(502, text="bad gateway"),
        httpx.Response(200, json=payload("sendgrid_messages_none.json")),
    )
    sender, _ = sendgrid(replay, policy=HttpPolicy(backoff_s=0))

    assert sender.find_sent(KEY) is None
    assert len(replay.requests) == 2


def test_an_accepted_send_without_an_id_still_counts_as_sent() -> None:
    sender, _ = sendgrid(Replay(httpx.Response(202)))

    assert sender.send(EMAIL).provider_message_id == f"<{KEY}@controlroom>"
