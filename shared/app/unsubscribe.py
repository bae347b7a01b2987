"""A recipient leaves the mailing: the signed link from an email's footer or its one-click
header puts their key on the suppression list, once; every later send and selection skips it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.core.errors import InvalidRequestError
from shared.email.ports import SuppressionList
from shared.email.unsubscribe import KEY_CHARS, token_is_valid


@dataclass(frozen=True)
class Unsubscribed:
    """The outcome: whether the key was on the list already."""

    key: str
    already: bool


def check_link(key: str, token: str, secret: bytes) -> None:
    """Refuse a link we did not make (InvalidRequestError naming what is wrong)."""
    if len(key) != KEY_CHARS or any(c not in "0123456789abcdef" for c in key):
        raise InvalidRequestError("the link's address key (a) is not one of ours")
    if not token or not token_is_valid(secret, key, token):
        raise InvalidRequestError("the link's token (t) does not match its address key")


def unsubscribe(
    key: str,
    token: str,
    *,
    source: str,
    secret: bytes,
    suppressions: SuppressionList,
    clock: Callable[[], datetime],
) -> Unsubscribed:
    """Put the link's recipient on the suppression list (the same answer when repeated)."""
    check_link(key, token, secret)
    added = suppressions.suppress(key, source=source, at=clock())
    return Unsubscribed(key=key, already=not added)
