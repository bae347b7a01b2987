"""Tracking API keys: who may send events, under which tier, and how a request proves it.

The setting CONTROLROOM_TRACKING_KEYS names each key's owner (a source of events, such as the
web app or the mobile app) and its tier:

    {"acme-web": {"key": "<at least 16 characters>", "tier": "free"}}

Keys are the values, not the names, so a settings dump or a log line never shows one.
CONTROLROOM_TRACKING_TIER_QUOTAS gives each tier its events per UTC day (default: free
1,000, pro 100,000). A request presents its key as `Authorization: Bearer <key>` or, as
Segment's libraries do, `Authorization: Basic base64("<key>:")` (the key as user name, no
password). Keys are compared in constant time against every configured key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr, StringConstraints

from shared.core.errors import UnauthorizedError

DEFAULT_TIER_QUOTAS: dict[str, int] = {"free": 1_000, "pro": 100_000}
MIN_KEY_CHARS = 16


def _check_key(key: SecretStr) -> SecretStr:
    value = key.get_secret_value()
    if len(value) < MIN_KEY_CHARS or re.search(r"[\s:]", value):
        raise ValueError(f"a key needs at least {MIN_KEY_CHARS} characters, no space or colon")
    return key


class TrackingKeySpec(BaseModel):
    """One configured key: its secret and its tier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[SecretStr, AfterValidator(_check_key)]
    tier: str = "free"


def _check_unique(keys: dict[str, TrackingKeySpec]) -> dict[str, TrackingKeySpec]:
    secrets = [spec.key.get_secret_value() for spec in keys.values()]
    if len(set(secrets)) != len(secrets):
        raise ValueError("two sources share one key; every source needs its own")
    return keys


SourceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
TrackingKeys = Annotated[dict[SourceName, TrackingKeySpec], AfterValidator(_check_unique)]
"""The settings field type, checked when the settings load."""


@dataclass(frozen=True)
class TrackingKey:
    """A key a request presented and matched: its source name, tier and daily quota."""

    source: str
    tier: str
    daily_quota: int
    secret: str = field(repr=False)


@dataclass(frozen=True)
class TrackingKeyTable:
    """Every configured key, ready to match presented ones."""

    keys: tuple[TrackingKey, ...]

    @classmethod
    def build(
        cls, keys: Mapping[str, TrackingKeySpec], tier_quotas: Mapping[str, int]
    ) -> TrackingKeyTable:
        """From the settings; a key whose tier has no quota is a configuration error."""
        built = []
        for source, spec in sorted(keys.items()):
            if spec.tier not in tier_quotas:
                known = ", ".join(sorted(tier_quotas))
                raise ValueError(f"tracking key {source!r}: unknown tier {spec.tier!r} ({known})")
            built.append(
                TrackingKey(source, spec.tier, tier_quotas[spec.tier], spec.key.get_secret_value())
            )
        return cls(tuple(built))

    def authenticate(self, authorization: str | None) -> TrackingKey:
        """The key an Authorization header carries; UnauthorizedError says what is wrong."""
        if not self.keys:
            raise UnauthorizedError("no tracking key is configured on this deployment")
        presented = presented_key(authorization)
        wanted = _digest(presented)
        found = None
        for key in self.keys:  # no early exit: the time does not depend on the position
            if hmac.compare_digest(wanted, _digest(key.secret)):
                found = key
        if found is None:
            raise UnauthorizedError("invalid tracking key")
        return found


def presented_key(authorization: str | None) -> str:
    """The key of `Bearer <key>` or `Basic base64(<key>:)`; UnauthorizedError otherwise."""
    if not authorization or not authorization.strip():
        raise UnauthorizedError(
            "missing 'Authorization: Bearer <key>' (or Basic with the key as user name)"
        )
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise UnauthorizedError("Basic credentials are not valid base64") from exc
        user, _, _password = decoded.partition(":")
        if user:
            return user
    raise UnauthorizedError(f"unsupported authorization {scheme!r}; use Bearer <key>")


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
