"""LinkedIn: answer a member's comment on an organization's post, as the organization.

LinkedIn has no public API for company-page direct messages, so customers reach a page by
commenting on its posts (the inbound side is the Organization Social Action Notifications
webhook, shared/support/inbound.py) and the page answers with a reply to that comment,
through the Comments API of the Community Management products
(learn.microsoft.com/linkedin/marketing/community-management/shares/comments-api):

    POST https://api.linkedin.com/rest/socialActions/{url-encoded target URN}/comments
    Authorization: Bearer <token with w_organization_social>
    LinkedIn-Version: YYYYMM
    X-Restli-Protocol-Version: 2.0.0
    {"actor": "urn:li:organization:<id>", "object": "<the post's activity/share URN>",
     "message": {"text": "..."}, "parentComment": "<comment URN>"}

A reply to a comment is a nested comment: the target in the path and `parentComment` are the
customer's comment URN, `urn:li:comment:(<post URN>,<id>)`, and `object` is the post URN
inside it. When the message answered is not a comment URN, the reply becomes a top-level
comment on the conversation's post (target and object: the post URN from the key
"linkedin:<post URN>").

LinkedIn answers 201 Created. The documented body is the created comment, with `$URN` (and
`id`); some integrations report an empty body with the URN only in the `x-restli-id` header,
so both are read and an empty 201 is a success. Errors are
`{"status", "serviceErrorCode", "code", "message"}`; 429 is LinkedIn's throttle (the app or
member's daily quota), retryable like every 429.

Uncertainty: the path, headers and body follow LinkedIn's documented "Create a Comment" and
"Create a Nested Comment" examples (high certainty); the response body vs header (medium).
LinkedIn retires each monthly `LinkedIn-Version` about a year after release; bump
LINKEDIN_API_VERSION (or CONTROLROOM_LINKEDIN_API_VERSION) before it is sunset, or every call
fails with 426.

Delivery: LinkedIn takes no idempotency key and we look nothing up before posting, so a
comment whose outcome we did not see (timeout, 5xx, crash before the outbox is marked) is
posted again, in process and on redelivery: at-least-once, chosen over no answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError
from shared.http.linkedin import LINKEDIN_API_VERSION
from shared.support.outbound import SentReply, thread_of

LINKEDIN_API = "https://api.linkedin.com"
VENDOR = "linkedin"

_COMMENT_URN_PREFIX = "urn:li:comment:("


class _LinkedInHttp(VendorHttp):
    """VendorHttp that accepts LinkedIn's empty 201 and keeps the `x-restli-id` header."""

    def _decode(self, response: httpx.Response) -> Any:
        if response.is_success and not response.content.strip():
            body: Any = {}
        else:
            body = super()._decode(response)
        restli_id = response.headers.get("x-restli-id")
        if restli_id and isinstance(body, dict):
            body = {**body, "x-restli-id": restli_id}
        return body


class LinkedInComments:
    """The ReplySender port on comments under one organization's LinkedIn posts."""

    def __init__(
        self,
        access_token: str,
        organization_urn: str,
        *,
        api_version: str = LINKEDIN_API_VERSION,
        client: httpx.Client | None = None,
        base_url: str = LINKEDIN_API,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not organization_urn.startswith("urn:li:organization:"):
            raise ValueError(f"not an organization URN: {organization_urn[:80]!r}")
        headers = {
            "Authorization": f"Bearer {access_token}",
            "LinkedIn-Version": api_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        self.organization_urn = organization_urn
        self.http = _LinkedInHttp(
            VENDOR,
            base_url,
            auth_headers=lambda: headers,
            error_message=linkedin_error_message,
            client=client,
            policy=policy,
            sleep=sleep,
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self.http.close()

    def comment(self, post_urn: str, text: str, *, parent_comment: str | None = None) -> str | None:
        """Comment on the post (under `parent_comment` if given); the new comment's URN."""
        target = parent_comment or post_urn
        body: dict[str, Any] = {
            "actor": self.organization_urn,
            "object": post_urn,
            "message": {"text": text},
        }
        if parent_comment:
            body["parentComment"] = parent_comment
        path = f"/rest/socialActions/{quote(target, safe='')}/comments"
        created = self.http.request_json("POST", path, json=body)
        if not isinstance(created, dict):
            raise VendorPermanentError(VENDOR, "the created comment is not a JSON object")
        urn = created.get("$URN") or created.get("x-restli-id") or created.get("id")
        return str(urn) if urn else None

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        """Reply under comment `in_reply_to` of the "linkedin:<post URN>" conversation."""
        post_urn = thread_of(conversation_key, VENDOR)
        thread = comment_thread(in_reply_to)
        if thread is None:
            urn = self.comment(post_urn, text)
        else:
            urn = self.comment(thread, text, parent_comment=in_reply_to)
        return SentReply(platform_message_id=urn)


def comment_thread(urn: str) -> str | None:
    """The post URN a comment URN `urn:li:comment:(<post URN>,<id>)` hangs from, else None."""
    if not (urn.startswith(_COMMENT_URN_PREFIX) and urn.endswith(")")):
        return None
    thread, sep, comment_id = urn[len(_COMMENT_URN_PREFIX) : -1].rpartition(",")
    return thread if sep and thread and comment_id else None


def linkedin_error_message(body: Any) -> str | None:
    """The message of LinkedIn's error body `{"status", "serviceErrorCode", "message"}`."""
    message = body.get("message")
    if not message:
        return None
    codes = []
    if body.get("serviceErrorCode") is not None:
        codes.append(f"serviceErrorCode {body['serviceErrorCode']}")
    if body.get("code"):
        codes.append(str(body["code"]))
    return f"{message} ({', '.join(codes)})" if codes else str(message)
