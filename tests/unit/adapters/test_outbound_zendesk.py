"""Zendesk replies and escalation tickets against recorded responses, at the transport."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from shared.adapters.vendors.zendesk import ZendeskClient
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from shared.support.outbound import (
    InvalidConversationKeyError,
    OpenedTicket,
    OutboundConfigError,
    SentReply,
)
from tests.helpers.vendor_replay import Replay, payload

EMAIL = "support-bot@acme.example"
API_TOKEN = "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
KEY = "zendesk:5158"
REPLY_KEY = "zendesk:31420698765"
EXTERNAL_ID = "controlroom:tiktok:7419038219477393670"
SUBJECT = "TikTok conversation needs a person: refund request over the automatic limit"
NOTE = "Conversation tiktok:0:1:7418290164882556934:7343915108926244870 needs a person."
REPLY = (
    "Sorry about that, Maria. The second €49.00 charge was a duplicate authorisation and has"
    " been refunded; it disappears from your statement within 5 business days."
)


def zendesk(replay: Replay, policy: HttpPolicy | None = None) -> ZendeskClient:
    return ZendeskClient(
        "acme", EMAIL, API_TOKEN, client=replay.client(), policy=policy, sleep=lambda _: None
    )


def ok(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload(name))


def test_every_request_uses_api_token_basic_auth_on_the_subdomain() -> None:
    replay = Replay(ok("zendesk_tickets_by_external_id_none.json"))

    zendesk(replay).find_ticket(EXTERNAL_ID)

    (request,) = replay.requests
    assert request.url.host == "acme.zendesk.com"
    expected = base64.b64encode(f"{EMAIL}/token:{API_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_a_reply_looks_for_its_key_then_adds_a_public_comment_tagged_with_it() -> None:
    replay = Replay(ok("zendesk_ticket_audits.json"), ok("zendesk_ticket_update.json"))

    sent = zendesk(replay).send_reply(KEY, "31420698765", REPLY, REPLY_KEY)

    assert sent == SentReply(platform_message_id="31420712346", deduplicated=False)
    lookup, update = replay.requests
    assert (lookup.method, lookup.url.path) == ("GET", "/api/v2/tickets/5158/audits.json")
    assert dict(lookup.url.params) == {"sort_order": "desc", "page[size]": "100"}
    assert (update.method, update.url.path) == ("PUT", "/api/v2/tickets/5158.json")
    assert json.loads(update.content) == {
        "ticket": {
            "comment": {"body": REPLY, "public": True},
            "metadata": {"controlroom_idempotency_key": REPLY_KEY},
        }
    }


def test_a_repeated_reply_finds_its_audit_and_comments_nothing() -> None:
    replay = Replay(ok("zendesk_ticket_audits_with_reply.json"))

    sent = zendesk(replay).send_reply(KEY, "31420698765", REPLY, REPLY_KEY)

    assert sent == SentReply(platform_message_id="31420712346", deduplicated=True)
    assert [r.method for r in replay.requests] == ["GET"]


def test_a_throttled_comment_is_retryable_and_not_retried_without_a_new_lookup() -> None:
    replay = Replay(
        ok("zendesk_ticket_audits.json"),
        httpx.Response(429, json=payload("zendesk_error_429.json"), headers={"Retry-After": "7"}),
    )

    with pytest.raises(VendorRetryableError) as caught:
        zendesk(replay).send_reply(KEY, "31420698765", REPLY, REPLY_KEY)  # default: 3 attempts

    error = caught.value
    assert (error.vendor, error.status, error.retry_after_s) == ("zendesk", 429, 7.0)
    assert "Number of allowed API requests per minute exceeded (APIRateLimitExceeded)" in str(error)
    assert [r.method for r in replay.requests] == ["GET", "PUT"]


def test_a_collision_on_the_ticket_is_retryable() -> None:
    replay = Replay(
        ok("zendesk_ticket_audits.json"),
        httpx.Response(409, json={"error": "Conflict", "description": "Ticket was updated"}),
    )

    with pytest.raises(VendorRetryableError):
        zendesk(replay).send_reply(KEY, "31420698765", REPLY, REPLY_KEY)


def test_422_is_permanent_with_zendesks_details() -> None:
    replay = Replay(ok("zendesk_ticket_audits.json"), ok("zendesk_error_422.json", 422))

    with pytest.raises(VendorPermanentError) as caught:
        zendesk(replay).send_reply(KEY, "31420698765", "", REPLY_KEY)

    assert caught.value.status == 422
    assert str(caught.value) == (
        "zendesk: HTTP 422: Record validation errors (RecordInvalid); "
        "base: Comment: Body: cannot be blank"
    )


def test_an_unknown_ticket_is_permanent() -> None:
    replay = Replay(ok("zendesk_error_404.json", 404))

    with pytest.raises(VendorPermanentError) as caught:
        zendesk(replay).send_reply("zendesk:999999", "1", REPLY, "zendesk:1")

    assert str(caught.value) == "zendesk: HTTP 404: Not found (RecordNotFound)"


def test_a_conversation_key_without_a_ticket_id_is_refused() -> None:
    replay = Replay()

    with pytest.raises(InvalidConversationKeyError):
        zendesk(replay).send_reply("zendesk:not-a-ticket", "1", REPLY, "zendesk:1")

    assert replay.requests == []


def test_an_escalation_looks_up_the_external_id_then_creates_the_ticket() -> None:
    replay = Replay(
        ok("zendesk_tickets_by_external_id_none.json"), ok("zendesk_ticket_created.json", 201)
    )

    opened = zendesk(replay).open_ticket(EXTERNAL_ID, SUBJECT, NOTE)

    assert opened == OpenedTicket(ticket_id="5171", created=True)
    lookup, create = replay.requests
    assert (lookup.method, lookup.url.path) == ("GET", "/api/v2/tickets.json")
    assert dict(lookup.url.params) == {"external_id": EXTERNAL_ID}
    assert "Idempotency-Key" not in lookup.headers
    assert (create.method, create.url.path) == ("POST", "/api/v2/tickets.json")
    assert create.headers["Idempotency-Key"] == EXTERNAL_ID
    assert json.loads(create.content) == {
        "ticket": {
            "subject": SUBJECT,
            "comment": {"body": NOTE, "public": False},
            "external_id": EXTERNAL_ID,
            "tags": ["controlroom", "escalation"],
        }
    }


def test_an_escalation_whose_ticket_exists_creates_nothing() -> None:
    replay = Replay(ok("zendesk_tickets_by_external_id.json"))

    opened = zendesk(replay).open_ticket(EXTERNAL_ID, "subject", "body")

    assert opened == OpenedTicket(ticket_id="5171", created=False)
    assert [r.method for r in replay.requests] == ["GET"]


def test_opening_the_same_escalation_twice_creates_one_ticket() -> None:
    replay = Replay(
        ok("zendesk_tickets_by_external_id_none.json"),
        ok("zendesk_ticket_created.json", 201),
        ok("zendesk_tickets_by_external_id.json"),
    )
    client = zendesk(replay)

    first = client.open_ticket(EXTERNAL_ID, "subject", "body")
    second = client.open_ticket(EXTERNAL_ID, "subject", "body")

    assert (first, second) == (
        OpenedTicket(ticket_id="5171", created=True),
        OpenedTicket(ticket_id="5171", created=False),
    )
    assert [r.method for r in replay.requests] == ["GET", "POST", "GET"]


def test_a_timed_out_create_is_retried_with_the_same_idempotency_key() -> None:
    outcomes: list[httpx.Response | Exception] = [
        ok("zendesk_tickets_by_external_id_none.json"),
        httpx.ReadTimeout("read timed out"),
        ok("zendesk_ticket_created.json", 201),
    ]
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    client = ZendeskClient(
        "acme",
        EMAIL,
        API_TOKEN,
        client=httpx.Client(transport=httpx.MockTransport(answer)),
        sleep=lambda _: None,
    )

    opened = client.open_ticket(EXTERNAL_ID, "subject", "body")

    assert opened.created
    posts = [r for r in requests if r.method == "POST"]
    assert [r.headers["Idempotency-Key"] for r in posts] == [EXTERNAL_ID, EXTERNAL_ID]


def test_a_subdomain_that_is_a_url_is_a_configuration_error() -> None:
    with pytest.raises(OutboundConfigError):
        ZendeskClient("acme.zendesk.com", EMAIL, API_TOKEN)
