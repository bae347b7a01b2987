"""Mailgun messages and Events API against recorded responses, at the transport."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest

from shared.email import EmailNotAcceptedError, OutgoingEmail, SentEmail
from shared.email.mailgun import MailgunEmailSender
from shared.http.errors import VendorPermanentError, VendorRetryableError
from tests.helpers.vendor_replay import Replay, payload

API_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
DOMAIN = "mg.shop.example"
SENDER = "Shop <hello@mg.shop.example>"
KEY = "winback-run_2026_11_16-cus_0042-5f1c2a9e8b7d6c4f"
EMAIL = OutgoingEmail(
    to="Ana Diaz <ana.diaz@example.com>",
    subject="We miss you, Ana",
    text="Come back for 20% off.",
    html="<p>Come back for 20% off.</p>",
    idempotency_key=KEY,
)
BASIC = "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode()


def mailgun(replay: Replay, base_url: str = "https://api.mailgun.net") -> MailgunEmailSender:
    return MailgunEmailSender(
        API_KEY, DOMAIN, SENDER, base_url=base_url, client=replay.client(), sleep=lambda _: None
    )


def ok(name: str) -> httpx.Response:
    return httpx.Response(200, json=payload(name))


def test_a_send_posts_the_form_with_message_id_header_and_variable() -> None:
    replay = Replay(ok("mailgun_messages_queued.json"))

    sent = mailgun(replay).send(EMAIL)

    assert sent == SentEmail(provider="mailgun", provider_message_id=f"{KEY}@controlroom")
    (request,) = replay.requests
    assert (request.method, str(request.url)) == (
        "POST",
        f"https://api.mailgun.net/v3/{DOMAIN}/messages",
    )
    assert request.headers["Authorization"] == BASIC
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode(), strict_parsing=True) == {
        "from": [SENDER],
        "to": ["Ana Diaz <ana.diaz@example.com>"],
        "subject": ["We miss you, Ana"],
        "text": ["Come back for 20% off."],
        "html": ["<p>Come back for 20% off.</p>"],
        "h:Message-Id": [f"<{KEY}@controlroom>"],
        "h:X-Controlroom-Key": [KEY],
        "v:controlroom_key": [KEY],
    }


def test_the_emails_own_headers_are_h_fields() -> None:
    replay = Replay(ok("mailgun_messages_queued.json"))
    headers = {"List-Unsubscribe": "<https://s.example/u>", "List-Unsubscribe-Post": "x=y"}

    mailgun(replay).send(EMAIL.model_copy(update={"headers": headers}))

    form = parse_qs(replay.requests[0].content.decode(), strict_parsing=True)
    assert form["h:List-Unsubscribe"] == ["<https://s.example/u>"]
    assert form["h:List-Unsubscribe-Post"] == ["x=y"]


def test_an_eu_domain_uses_the_eu_base_url_and_text_only_has_no_html() -> None:
    replay = Replay(ok("mailgun_messages_queued.json"))

    mailgun(replay, base_url="https://api.eu.mailgun.net/").send(
        EMAIL.model_copy(update={"html": None})
    )

    (request,) = replay.requests
    assert str(request.url) == f"https://api.eu.mailgun.net/v3/{DOMAIN}/messages"
    assert "html" not in parse_qs(request.content.decode())


def test_find_sent_reads_events_by_the_message_id() -> None:
    replay = Replay(ok("mailgun_events_accepted.json"))

    found = mailgun(replay).find_sent(KEY)

    assert found == SentEmail(provider="mailgun", provider_message_id=f"{KEY}@controlroom")
    (request,) = replay.requests
    assert (request.method, request.url.path) == ("GET", f"/v3/{DOMAIN}/events")
    assert dict(request.url.params) == {"message-id": f"{KEY}@controlroom", "limit": "25"}
    assert request.headers["Authorization"] == BASIC


@pytest.mark.parametrize("name", ["mailgun_events_none.json", "mailgun_events_rejected.json"])
def test_no_event_or_only_a_rejection_means_not_sent(name: str) -> None:
    assert mailgun(Replay(ok(name))).find_sent(KEY) is None


def test_an_event_of_another_key_does_not_count() -> None:
    body = payload("mailgun_events_accepted.json")
    body["items"][0]["user-variables"] = {"controlroom_key": "someone-else"}

    assert mailgun(Replay(httpx.Response(200, json=body))).find_sent(KEY) is None


def test_a_429_is_retried_then_sent_once() -> None:
    replay = Replay(
        httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "1"}),
        ok("mailgun_messages_queued.json"),
    )

    assert mailgun(replay).send(EMAIL).provider == "mailgun"
    assert len(replay.requests) == 2


def test_a_5xx_is_not_retried() -> None:
    replay = Replay(httpx.Response(500, text="Internal Server Error"))

    with pytest.raises(VendorRetryableError) as caught:
        mailgun(replay).send(EMAIL)
    assert not isinstance(caught.value, EmailNotAcceptedError)
    assert len(replay.requests) == 1


def test_a_wrong_key_is_permanent() -> None:
    replay = Replay(httpx.Response(401, text="Forbidden"))

    with pytest.raises(VendorPermanentError, match="HTTP 401: Forbidden"):
        mailgun(replay).send(EMAIL)


def test_a_bad_request_carries_mailguns_message() -> None:
    replay = Replay(httpx.Response(400, json=payload("mailgun_error_400.json")))

    with pytest.raises(VendorPermanentError, match="'from' parameter is not a valid address"):
        mailgun(replay).send(EMAIL)


def test_an_events_answer_of_the_wrong_shape_is_permanent() -> None:
    replay = Replay(httpx.Response(200, json={"unexpected": True}))

    with pytest.raises(VendorPermanentError, match="unexpected events shape"):
        mailgun(replay).find_sent(KEY)
