"""TikTok Business Messaging: a text reply into a customer's direct-message conversation.

Endpoint (TikTok API for Business, Business Messaging API, v1.3):

    POST https://business-api.tiktok.com/open_api/v1.3/business/message/send/
    Access-Token: <the business account's access token>
    {"business_id": "...", "recipient_type": "CONVERSATION", "recipient": "<conversation_id>",
     "message_type": "TEXT", "text": {"body": "..."}}

It answers HTTP 200 with TikTok's usual envelope, `{"code": 0, "message": "OK", "request_id",
"data": {"message": {"message_id": "..."}}}`; a refused request is usually also HTTP 200, with
a non-zero `code`:
- 40100 (too many requests) and 5xxxx (TikTok-side failures): VendorRetryableError;
- everything else, e.g. 40001 no permission, 40002 bad parameter, 40007 unknown object,
  40105 invalid or expired token, 40064 blocked by TikTok's messaging rules:
  VendorPermanentError with TikTok's message, code and request id.
An HTTP 429/5xx, timeout or dropped connection is handled as for every vendor (`_http`).

Uncertainty (medium): TikTok publishes the Business Messaging reference in its partner portal
(business-api.tiktok.com/portal/docs?id=1832184403754242), which we could not read. The
request and response shapes above are those of independent open-source integrations built
against it (Chatwoot's TikTok channel among them), which agree with each other; the error
codes come from messaging partners' published tables. The conversation id is the one the
`im_receive_msg` webhook carries (see shared/support/inbound.py). TikTok also lets a reply
quote the customer's message (`referenced_message_info`); we do not use it. Per partners'
docs a business may only write after the user has, and within 48 hours of the user's last
message; a later send is refused (permanent).

Delivery: TikTok takes no idempotency key and offers no way to find a sent message by a key
of ours. A send whose outcome we did not see (a timeout, a 5xx, a crash before the outbox is
marked sent) may have reached the customer, and is sent again, in process and on redelivery:
at-least-once. A rare repeated answer is preferred to a customer left without one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError, VendorRetryableError
from shared.support.outbound import SentReply, thread_of

TIKTOK_BUSINESS_API = "https://business-api.tiktok.com"
SEND_PATH = "/open_api/v1.3/business/message/send/"
VENDOR = "tiktok"

RATE_LIMITED_CODE = 40100
FIRST_SERVER_ERROR_CODE = 50000

Model = TypeVar("Model", bound=BaseModel)


class _TikTokObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _SentMessage(_TikTokObject):
    message_id: str | None = None


class _SendData(_TikTokObject):
    message: _SentMessage | None = None


class _Envelope(_TikTokObject):
    code: int
    message: str = ""
    request_id: str | None = None
    data: dict[str, Any] | None = None


class TikTokMessaging:
    """The ReplySender port on TikTok direct messages of one business account."""

    def __init__(
        self,
        access_token: str,
        business_id: str,
        *,
        client: httpx.Client | None = None,
        base_url: str = TIKTOK_BUSINESS_API,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Access-Token": access_token}
        self.business_id = business_id
        self.http = VendorHttp(
            VENDOR,
            base_url,
            auth_headers=lambda: headers,
            error_message=tiktok_error_message,
            client=client,
            policy=policy,
            sleep=sleep,
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self.http.close()

    def send_text(self, conversation_id: str, text: str) -> str | None:
        """Send `text` into the conversation; TikTok's id of the sent message, if it gave one."""
        body = {
            "business_id": self.business_id,
            "recipient_type": "CONVERSATION",
            "recipient": conversation_id,
            "message_type": "TEXT",
            "text": {"body": text},
        }
        envelope = _parse(_Envelope, self.http.request_json("POST", SEND_PATH, json=body))
        _raise_for_code(envelope)
        data = _parse(_SendData, envelope.data or {})
        return data.message.message_id if data.message else None

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        """Answer in the "tiktok:<conversation_id>" conversation (at-least-once, see above)."""
        message_id = self.send_text(thread_of(conversation_key, VENDOR), text)
        return SentReply(platform_message_id=message_id)


def tiktok_error_message(body: Any) -> str | None:
    """The message of TikTok's envelope `{"code", "message", "request_id"}`."""
    return _describe(_parse(_Envelope, body))


def _raise_for_code(envelope: _Envelope) -> None:
    if envelope.code == 0:
        return
    message = f"HTTP 200: {_describe(envelope)}"
    if envelope.code == RATE_LIMITED_CODE or envelope.code >= FIRST_SERVER_ERROR_CODE:
        raise VendorRetryableError(VENDOR, message, status=200)
    raise VendorPermanentError(VENDOR, message, status=200)


def _describe(envelope: _Envelope) -> str:
    text = f"{envelope.message or 'no message'} (code {envelope.code}"
    if envelope.request_id:
        text += f", request_id {envelope.request_id}"
    return text + ")"


def _parse(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise VendorPermanentError(VENDOR, f"unexpected response shape: {error}") from error
