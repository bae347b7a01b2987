"""Leaving a shop's mailing: the signed link every campaign email carries, its headers, its
footer, and the key the suppression list is kept by.

A recipient is named by `address_key(address)`, the SHA-256 of the trimmed, lower-cased
address (hex, 32 characters): the suppression list and the links hold no address. A link is
`{status_url}/unsubscribe?a={key}&t={token}` with token = HMAC-SHA256(secret, "unsubscribe:"
+ key), base64url without padding, 22 characters (128 bits): only whoever holds the secret
can make one, so nobody unsubscribes someone else by editing the link.

Each email gets the two headers mailbox providers read (RFC 2369 `List-Unsubscribe`, RFC 8058
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`: a mail client's "unsubscribe" button
POSTs to the link with no cookie and no page in between; Gmail and Yahoo ask bulk senders
for both since February 2024) and a footer with the same link for people.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from shared.email.ports import SuppressionList

UNSUBSCRIBE_PATH = "/unsubscribe"
KEY_CHARS = 32
TOKEN_CHARS = 22
ONE_CLICK = "List-Unsubscribe=One-Click"


def address_key(address: str) -> str:
    """The suppression list's key of an email address (case and spaces do not matter)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:KEY_CHARS]


def unsubscribe_token(secret: bytes, key: str) -> str:
    """The token that proves a link to unsubscribe `key` was made by us."""
    digest = hmac.new(secret, f"unsubscribe:{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:TOKEN_CHARS]


def token_is_valid(secret: bytes, key: str, token: str) -> bool:
    """Whether `token` is ours for `key` (compared in constant time)."""
    return hmac.compare_digest(unsubscribe_token(secret, key), token)


def unsubscribe_url(base_url: str, secret: bytes, address: str) -> str:
    """The link that takes `address` off the mailing."""
    key = address_key(address)
    query = urlencode({"a": key, "t": unsubscribe_token(secret, key)})
    return f"{base_url.rstrip('/')}{UNSUBSCRIBE_PATH}?{query}"


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers that give mail clients a one-click unsubscribe button for `url`."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}


def with_footer(body: str, url: str, shop: str) -> str:
    """`body` with a footer saying why the email came and how to get no more of them."""
    return (
        f"{body.rstrip()}\n\n--\n"
        f"You receive this email because you have ordered from {shop}.\n"
        f"To get no more offers like this one: {url}\n"
    )


@dataclass(frozen=True)
class Mailing:
    """What a campaign email needs besides its words: whom not to write to, how they leave,
    and the secret that signs links and offer codes."""

    suppressions: SuppressionList
    secret: bytes
    base_url: str  # the status page, which serves /unsubscribe
    shop: str  # the sender's name, as the footer says it

    def link(self, address: str) -> str:
        """The unsubscribe link of `address`."""
        return unsubscribe_url(self.base_url, self.secret, address)

    def unsubscribed(self, addresses: Sequence[str]) -> set[str]:
        """Which of `addresses` asked for no more emails."""
        keys = {address_key(a): a for a in addresses}
        return {keys[k] for k in self.suppressions.suppressed_among(list(keys))}
