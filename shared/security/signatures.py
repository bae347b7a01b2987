"""Webhook signature checks, one per vendor, each implementing that vendor's documented scheme.

Every verifier is a pure function `verify_<vendor>(headers, body, secret, now)` that returns
None when the request is authentic and raises a `SignatureError` subclass (HTTP 401) saying
what is wrong otherwise:

    SignatureError               (UnauthorizedError)
     ├── SecretNotConfiguredError  this deployment has no secret for the platform
     ├── MissingSignatureError     a signature or timestamp header is absent or empty
     ├── MalformedSignatureError   a header is present but not in the vendor's format
     ├── SignatureMismatchError    the signature is not the HMAC of this body with our secret
     └── StaleSignatureError       the signed timestamp is outside the replay window

`verify_webhook` picks the verifier by platform name; an unknown name raises
`UnknownPlatformError` (InvalidRequestError, 400).

The signature is checked before the timestamp, so a forged request never learns whether its
timestamp would have been accepted. `body` must be the raw request bytes exactly as received:
re-serialised JSON does not verify. Header names are matched case-insensitively, as HTTP
requires, so a plain dict works as well as Flask's `request.headers`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from shared.core.errors import InvalidRequestError, UnauthorizedError

REPLAY_WINDOW = timedelta(minutes=5)
"""Default tolerance between a signed timestamp and our clock, in either direction."""

STRIPE_SIGNATURE_HEADER = "Stripe-Signature"
ZENDESK_SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
TIKTOK_SIGNATURE_HEADER = "TikTok-Signature"
LINKEDIN_SIGNATURE_HEADER = "X-LI-Signature"
GENERIC_SIGNATURE_HEADER = "X-Controlroom-Signature"
GENERIC_TIMESTAMP_HEADER = "X-Controlroom-Timestamp"

_LINKEDIN_PREFIX = "hmacsha256="
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,10}")  # up to year 2286; more cannot be a real clock


class SignatureError(UnauthorizedError):
    """A webhook request whose signature does not prove it came from the vendor."""


class SecretNotConfiguredError(SignatureError):
    """This deployment has no signing secret for the platform, so nothing can be verified."""


class MissingSignatureError(SignatureError):
    """A signature or timestamp header the scheme requires is absent or empty."""


class MalformedSignatureError(SignatureError):
    """A signature or timestamp header is present but not in the vendor's format."""


class SignatureMismatchError(SignatureError):
    """The signature is well-formed but is not the HMAC of this body with our secret."""


class StaleSignatureError(SignatureError):
    """The signature is valid but its timestamp is outside the replay window."""


class UnknownPlatformError(InvalidRequestError):
    """A webhook for a platform this deployment has no verifier for."""


class WebhookVerifier(Protocol):
    """The shape every `verify_<vendor>` function has."""

    def __call__(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secret: str,
        now: datetime,
        *,
        tolerance: timedelta = REPLAY_WINDOW,
    ) -> None: ...


# --- Stripe ---------------------------------------------------------------------------


def verify_stripe(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = REPLAY_WINDOW,
) -> None:
    """Check a Stripe `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` header.

    Scheme (Stripe docs, "Verify webhook signatures manually"; same as stripe-python's
    `WebhookSignature.verify_header`): hex HMAC-SHA256 keyed with the endpoint secret
    (the whole `whsec_...` string) over `f"{t}.{raw body}"`. Several `v1` entries appear
    while a secret is being rolled; one match suffices. Other schemes (`v0`) are ignored.
    Stripe's default tolerance is 300 s. Certainty: high.
    """
    _require_secret("stripe", secret)
    header = _header(headers, STRIPE_SIGNATURE_HEADER)
    fields = _comma_pairs(header, STRIPE_SIGNATURE_HEADER)
    timestamp = _single_unix_seconds(fields, "t", STRIPE_SIGNATURE_HEADER)
    candidates = fields.get("v1", [])
    if not candidates:
        raise MalformedSignatureError(f"{STRIPE_SIGNATURE_HEADER} header has no v1 signature")
    for candidate in candidates:
        _require_hex_sha256(candidate, f"{STRIPE_SIGNATURE_HEADER} v1 signature")
    expected = _hmac_sha256(secret, f"{timestamp}.".encode() + body)
    # Compare every candidate, not just until the first match, so timing says nothing.
    matches = [hmac.compare_digest(expected, bytes.fromhex(c)) for c in candidates]
    if not any(matches):
        raise SignatureMismatchError(
            f"{STRIPE_SIGNATURE_HEADER} matches no v1 signature of this body "
            "(wrong endpoint secret, or the body was altered)"
        )
    _require_fresh(timestamp, now, tolerance, STRIPE_SIGNATURE_HEADER)


def _require_match(expected: bytes, presented: bytes, what: str, why: str) -> None:
    """Constant-time comparison; a mismatch names the header and the likely causes."""
    if not hmac.compare_digest(expected, presented):
        raise SignatureMismatchError(f"{what} ({why})")


# --- Zendesk --------------------------------------------------------------------------


def verify_zendesk(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = REPLAY_WINDOW,
) -> None:
    """Check Zendesk's `X-Zendesk-Webhook-Signature` and `...-Signature-Timestamp` headers.

    Scheme (developer.zendesk.com/documentation/webhooks/verifying): the signature is
    `base64(HMAC-SHA256(signing secret, TIMESTAMP + BODY))`, the timestamp header concatenated
    with the raw body without a separator, the secret used as the literal string Zendesk
    shows (not base64-decoded). The timestamp is ISO 8601 (`2021-07-25T10:00:00Z`); unix
    seconds are accepted too. Zendesk names no replay window; ours applies. Certainty: high
    for the current webhooks page. An older event-connectors page writes the formula as
    BODY + TIMESTAMP and its example vector matches that order; we follow the current page.
    """
    _require_secret("zendesk", secret)
    signature = _header(headers, ZENDESK_SIGNATURE_HEADER)
    raw_timestamp = _header(headers, ZENDESK_TIMESTAMP_HEADER)
    timestamp = _parse_zendesk_timestamp(raw_timestamp)
    try:
        presented = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignatureError(f"{ZENDESK_SIGNATURE_HEADER} is not base64") from exc
    if len(presented) != hashlib.sha256().digest_size:
        raise MalformedSignatureError(
            f"{ZENDESK_SIGNATURE_HEADER} does not decode to a 32-byte HMAC-SHA256"
        )
    expected = _hmac_sha256(secret, raw_timestamp.encode() + body)
    _require_match(
        expected,
        presented,
        f"{ZENDESK_SIGNATURE_HEADER} is not the signature of this body and timestamp",
        "wrong signing secret, or the body was altered",
    )
    _require_fresh(timestamp, now, tolerance, ZENDESK_TIMESTAMP_HEADER)


def _parse_zendesk_timestamp(raw: str) -> int:
    if _UNIX_SECONDS.fullmatch(raw):
        return int(raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise MalformedSignatureError(
            f"{ZENDESK_TIMESTAMP_HEADER} is not an ISO 8601 timestamp: {raw[:40]!r}"
        ) from exc
    if parsed.tzinfo is None:
        raise MalformedSignatureError(f"{ZENDESK_TIMESTAMP_HEADER} has no UTC offset")
    return int(parsed.timestamp())


# --- TikTok ---------------------------------------------------------------------------


def verify_tiktok(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = REPLAY_WINDOW,
) -> None:
    """Check a TikTok `TikTok-Signature: t=<unix>,s=<hex>` header.

    Scheme (developers.tiktok.com/doc/webhooks-verification): hex HMAC-SHA256 keyed with the
    app's client_secret over `f"{t}.{raw body}"`; compare, then judge the timestamp's age.
    Certainty: high for TikTok for Developers webhooks. The Business Messaging (direct
    message) webhooks are not on that page; open-source integrations (e.g. Chatwoot's TikTok
    channel) verify them with this same header and scheme using the app secret, so we apply
    it to them too. TikTok names no tolerance; ours applies.
    """
    _require_secret("tiktok", secret)
    header = _header(headers, TIKTOK_SIGNATURE_HEADER)
    fields = _comma_pairs(header, TIKTOK_SIGNATURE_HEADER)
    timestamp = _single_unix_seconds(fields, "t", TIKTOK_SIGNATURE_HEADER)
    signatures = fields.get("s", [])
    if len(signatures) != 1:
        raise MalformedSignatureError(
            f"{TIKTOK_SIGNATURE_HEADER} header needs exactly one s=<hex> signature"
        )
    presented = _require_hex_sha256(signatures[0], f"{TIKTOK_SIGNATURE_HEADER} s signature")
    expected = _hmac_sha256(secret, f"{timestamp}.".encode() + body)
    _require_match(
        expected,
        presented,
        f"{TIKTOK_SIGNATURE_HEADER} is not the signature of this body",
        "wrong client secret, or the body was altered",
    )
    _require_fresh(timestamp, now, tolerance, TIKTOK_SIGNATURE_HEADER)


# --- LinkedIn -------------------------------------------------------------------------


def verify_linkedin(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = REPLAY_WINDOW,
) -> None:
    """Check LinkedIn's `X-LI-Signature` header: exactly the documented construction.

    Where it is documented: learn.microsoft.com/linkedin/shared/api-guide/webhook-validation,
    section "Requirements for Processing Notifications": the header "is the HMACSHA256 hash
    of the JSON-encoded string representation of the POST body prefixed by `hmacsha256=`
    and it is computed using your app's clientSecret", and the receiver "must compute the
    signature on the POST body prefixed by `hmacsha256=`". So the header is
    hex(HMAC-SHA256(clientSecret, b"hmacsha256=" + body)), hex as for the challengeResponse
    on the same page (either letter case is the same digest). Nothing else is accepted: a
    header that carries a `hmacsha256=` prefix, or an HMAC over the body alone, is refused
    (earlier versions accepted both; LinkedIn documents neither).

    LinkedIn signs no timestamp, so there is no replay window to check (`now` and `tolerance`
    are accepted for a uniform signature and unused): deduplicate on each notification's
    `notificationId`, as the same page requires.
    """
    _require_secret("linkedin", secret)
    header = _header(headers, LINKEDIN_SIGNATURE_HEADER)
    if header.lower().startswith(_LINKEDIN_PREFIX):
        raise MalformedSignatureError(
            f"{LINKEDIN_SIGNATURE_HEADER} header carries a {_LINKEDIN_PREFIX!r} prefix; LinkedIn "
            "sends the bare hex HMAC-SHA256 of the body prefixed by it"
        )
    presented = _require_hex_sha256(header, f"{LINKEDIN_SIGNATURE_HEADER} header")
    expected = _hmac_sha256(secret, _LINKEDIN_PREFIX.encode() + body)
    if not hmac.compare_digest(expected, presented):
        raise SignatureMismatchError(
            f"{LINKEDIN_SIGNATURE_HEADER} is not the signature of this body "
            "(wrong client secret, or the body was altered)"
        )


def linkedin_challenge_response(challenge_code: str, secret: str) -> dict[str, str]:
    """The JSON body answering LinkedIn's `GET ?challengeCode=...` endpoint validation.

    Documented as `challengeResponse = Hex-encoded(HMACSHA256(challengeCode, clientSecret))`
    with the clientSecret as the key (same page as `verify_linkedin`). Certainty: high.
    """
    _require_secret("linkedin", secret)
    if not challenge_code or len(challenge_code) > 256:
        raise InvalidRequestError("challengeCode must be 1 to 256 characters")
    response = hmac.new(secret.encode(), challenge_code.encode(), hashlib.sha256).hexdigest()
    return {"challengeCode": challenge_code, "challengeResponse": response}


# --- generic (our own site chat) ------------------------------------------------------


def sign_generic(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """Headers that sign `body` for `verify_generic`; used by our chat widget's backend."""
    digest = _hmac_sha256(secret, f"{timestamp}.".encode() + body).hex()
    return {GENERIC_TIMESTAMP_HEADER: str(timestamp), GENERIC_SIGNATURE_HEADER: f"v1={digest}"}


def verify_generic(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = REPLAY_WINDOW,
) -> None:
    """Check our own site chat's signature headers.

    Scheme (ours, Stripe-like): `X-Controlroom-Timestamp: <unix seconds>` and
    `X-Controlroom-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>`.
    """
    _require_secret("generic", secret)
    raw_timestamp = _header(headers, GENERIC_TIMESTAMP_HEADER)
    signature = _header(headers, GENERIC_SIGNATURE_HEADER)
    if not _UNIX_SECONDS.fullmatch(raw_timestamp):
        raise MalformedSignatureError(f"{GENERIC_TIMESTAMP_HEADER} must be unix seconds")
    timestamp = int(raw_timestamp)
    scheme, separator, digest = signature.partition("=")
    if not separator or scheme != "v1":
        raise MalformedSignatureError(f"{GENERIC_SIGNATURE_HEADER} must be 'v1=<hex>'")
    presented = _require_hex_sha256(digest, f"{GENERIC_SIGNATURE_HEADER} v1 signature")
    expected = _hmac_sha256(secret, f"{timestamp}.".encode() + body)
    _require_match(
        expected,
        presented,
        f"{GENERIC_SIGNATURE_HEADER} is not the signature of this body and timestamp",
        "wrong secret, or the body was altered",
    )
    _require_fresh(timestamp, now, tolerance, GENERIC_TIMESTAMP_HEADER)


# --- dispatch -------------------------------------------------------------------------

VERIFIERS: dict[str, WebhookVerifier] = {
    "stripe": verify_stripe,
    "zendesk": verify_zendesk,
    "tiktok": verify_tiktok,
    "linkedin": verify_linkedin,
    "generic": verify_generic,
}


def verify_webhook(
    platform: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    now: datetime,
    *,
    tolerance: timedelta = REPLAY_WINDOW,
) -> None:
    """Verify a webhook with the named platform's verifier and that platform's secret."""
    verifier = VERIFIERS.get(platform)
    if verifier is None:
        known = ", ".join(sorted(VERIFIERS))
        raise UnknownPlatformError(f"unknown webhook platform {platform[:40]!r}; known: {known}")
    verifier(headers, body, secrets.get(platform, ""), now, tolerance=tolerance)


# --- shared helpers -------------------------------------------------------------------


def _require_secret(platform: str, secret: str) -> None:
    if not secret:
        raise SecretNotConfiguredError(
            f"no webhook signing secret is configured for {platform!r} on this deployment"
        )


def _header(headers: Mapping[str, str], name: str) -> str:
    """The named header's value, matched case-insensitively; missing or blank is an error."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if value is None or not value.strip():
        raise MissingSignatureError(f"missing {name} header")
    return value.strip()


def _comma_pairs(header: str, name: str) -> dict[str, list[str]]:
    """Split `k=v,k=v,...` into a multimap; a part without `=` makes the header malformed."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, separator, value = part.strip().partition("=")
        if not separator or not key:
            raise MalformedSignatureError(f"{name} header is not a list of key=value pairs")
        fields.setdefault(key, []).append(value)
    return fields


def _single_unix_seconds(fields: dict[str, list[str]], key: str, name: str) -> int:
    values = fields.get(key, [])
    if len(values) != 1:
        raise MalformedSignatureError(f"{name} header needs exactly one {key}=<unix seconds>")
    if not _UNIX_SECONDS.fullmatch(values[0]):
        raise MalformedSignatureError(f"{name} header {key}= is not unix seconds")
    return int(values[0])


def _require_hex_sha256(value: str, what: str) -> bytes:
    if not _HEX_SHA256.fullmatch(value):
        raise MalformedSignatureError(f"{what} is not a 64-character hex HMAC-SHA256")
    return bytes.fromhex(value)


def _hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _require_fresh(timestamp: int, now: datetime, tolerance: timedelta, name: str) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    window = int(tolerance.total_seconds())
    # In seconds, not datetimes: a signed ISO timestamp may name an instant before year 1 or
    # after 9999 in UTC (e.g. 0001-01-01T00:00:00+14:00), which datetime cannot hold.
    age = now.timestamp() - timestamp
    if age > tolerance.total_seconds():
        raise StaleSignatureError(
            f"{name} timestamp is {int(age)} s old, outside the {window} s replay window"
        )
    if -age > tolerance.total_seconds():
        raise StaleSignatureError(
            f"{name} timestamp is {int(-age)} s in the future, beyond the {window} s "
            "allowed clock skew"
        )
