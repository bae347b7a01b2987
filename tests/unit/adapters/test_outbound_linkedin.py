"""LinkedIn comment replies against recorded responses, the network swapped at the transport."""

from __future__ import annotations

import json

import httpx
import pytest

from shared.adapters.vendors.linkedin_messaging import LinkedInComments, comment_thread
from shared.core.messages import conversation_key
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from shared.support.outbound import SentReply
from tests.helpers.vendor_replay import Replay, payload

TOKEN = "AQXdSP_W41_UPs5ioT_t8HESyODB4FqbkJ8LrV_5mff4gPODzOYR"
ORGANIZATION = "urn:li:organization:96072893"
POST = "urn:li:activity:7256637247890620418"
COMMENT = "urn:li:comment:(urn:li:activity:7256637247890620418,7256977717598625792)"
KEY = conversation_key("linkedin", POST)
NO_RETRY = HttpPolicy(max_attempts=1)


def linkedin(replay: Replay, policy: HttpPolicy | None = None) -> LinkedInComments:
    return LinkedInComments(
        TOKEN,
        ORGANIZATION,
        api_version="202510",
        client=replay.client(),
        policy=policy,
        sleep=lambda _: None,
    )


def test_a_reply_is_a_nested_comment_under_the_customers_comment() -> None:
    replay = Replay(httpx.Response(201, json=payload("linkedin_comment_created.json")))

    sent = linkedin(replay).send_reply(KEY, COMMENT, "Yes: Reports > Export > CSV.", "k1")

    assert sent == SentReply(
        platform_message_id=(
            "urn:li:comment:(urn:li:activity:7256637247890620418,7256983320142381056)"
        )
    )
    (request,) = replay.requests
    assert request.method == "POST"
    assert request.url.host == "api.linkedin.com"
    assert request.url.raw_path == (
        b"/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A"
        b"7256637247890620418%2C7256977717598625792%29/comments"
    )
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["LinkedIn-Version"] == "202510"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert json.loads(request.content) == {
        "actor": ORGANIZATION,
        "object": POST,
        "message": {"text": "Yes: Reports > Export > CSV."},
        "parentComment": COMMENT,
    }


def test_a_reply_to_something_else_than_a_comment_comments_on_the_post() -> None:
    replay = Replay(httpx.Response(201, json=payload("linkedin_comment_created.json")))

    linkedin(replay).send_reply(KEY, "5603453321", "Thanks!", "k1")

    (request,) = replay.requests
    assert request.url.raw_path == (
        b"/rest/socialActions/urn%3Ali%3Aactivity%3A7256637247890620418/comments"
    )
    assert json.loads(request.content) == {
        "actor": ORGANIZATION,
        "object": POST,
        "message": {"text": "Thanks!"},
    }


def test_an_empty_201_reads_the_urn_from_the_restli_header() -> None:
    created = "urn:li:comment:(urn:li:activity:7256637247890620418,7256983320142381056)"
    replay = Replay(httpx.Response(201, content=b"", headers={"x-restli-id": created}))

    sent = linkedin(replay).send_reply(KEY, COMMENT, "Thanks!", "k1")

    assert sent.platform_message_id == created


def test_429_is_retryable_with_the_retry_after() -> None:
    replay = Replay(
        httpx.Response(429, json=payload("linkedin_error_429.json"), headers={"Retry-After": "60"})
    )

    with pytest.raises(VendorRetryableError) as caught:
        linkedin(replay, NO_RETRY).send_reply(KEY, COMMENT, "Thanks!", "k1")

    assert (caught.value.vendor, caught.value.status, caught.value.retry_after_s) == (
        "linkedin",
        429,
        60.0,
    )
    assert "APPLICATION DAY limit" in str(caught.value)


def test_403_is_permanent_with_linkedins_message() -> None:
    replay = Replay(httpx.Response(403, json=payload("linkedin_error_403.json")))

    with pytest.raises(VendorPermanentError) as caught:
        linkedin(replay).send_reply(KEY, COMMENT, "Thanks!", "k1")

    assert caught.value.status == 403
    assert str(caught.value) == (
        "linkedin: HTTP 403: Not enough permissions to access: "
        "partnerApiSocialActions.CREATE.20251001 (serviceErrorCode 100, ACCESS_DENIED)"
    )
    assert len(replay.requests) == 1


def test_comment_thread_reads_the_post_out_of_a_comment_urn() -> None:
    assert comment_thread(COMMENT) == POST
    assert comment_thread("urn:li:comment:(urn:li:ugcPost:7123,7456)") == "urn:li:ugcPost:7123"
    assert comment_thread(POST) is None
    assert comment_thread("urn:li:comment:(broken)") is None
