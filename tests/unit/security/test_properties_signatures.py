"""Properties of the webhook signature checks, for every platform: a request signed as the vendor
documents verifies whatever its body; a tampered body, timestamp or secret never verifies; a
stale timestamp is refused; any header values at all end in None or a SignatureError (401),
never another exception. Signatures are computed here from the vendors' documented schemes,
independently of the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.security.signatures import (
    GENERIC_SIGNATURE_HEADER,
    GENERIC_TIMESTAMP_HEADER,
    LINKEDIN_SIGNATURE_HEADER,
    REPLAY_WINDOW,
    STRIPE_SIGNATURE_HEADER,
    TIKTOK_SIGNATURE_HEADER,
    ZENDESK_SIGNATURE_HEADER,
    ZENDESK_TIMESTAMP_HEADER,
    SignatureError,
    StaleSignatureError,
    verify_webhook,
)
from tests.helpers.fuzzing import fuzz_settings

Headers = dict[str, str]
Signer = Callable[[bytes, str, str], Headers]  # (body, secret, signed timestamp) -> headers

WINDOW_S = int(REPLAY_WINDOW.total_seconds())


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def sign_stripe(body: bytes, secret: str, timestamp: str) -> Headers:
    digest = _hmac(secret, f"{timestamp}.".encode() + body).hex()
    return {STRIPE_SIGNATURE_HEADER: f"t={timestamp},v1={digest}"}


def sign_tiktok(body: bytes, secret: str, timestamp: str) -> Headers:
    digest = _hmac(secret, f"{timestamp}.".encode() + body).hex()
    return {TIKTOK_SIGNATURE_HEADER: f"t={timestamp},s={digest}"}


def sign_zendesk(body: bytes, secret: str, timestamp: str) -> Headers:
    digest = base64.b64encode(_hmac(secret, timestamp.encode() + body)).decode()
    return {ZENDESK_SIGNATURE_HEADER: digest, ZENDESK_TIMESTAMP_HEADER: timestamp}


def sign_linkedin(body: bytes, secret: str, timestamp: str) -> Headers:
    return {LINKEDIN_SIGNATURE_HEADER: _hmac(secret, b"hmacsha256=" + body).hex()}


def sign_generic(body: bytes, secret: str, timestamp: str) -> Headers:
    digest = _hmac(secret, f"{timestamp}.".encode() + body).hex()
    return {GENERIC_TIMESTAMP_HEADER: timestamp, GENERIC_SIGNATURE_HEADER: f"v1={digest}"}


SIGNERS: dict[str, Signer] = {
    "stripe": sign_stripe,
    "tiktok": sign_tiktok,
    "zendesk": sign_zendesk,
    "linkedin": sign_linkedin,
    "generic": sign_generic,
}
TIMED = sorted(set(SIGNERS) - {"linkedin"})  # LinkedIn signs no timestamp
HEADER_NAMES = [
    STRIPE_SIGNATURE_HEADER,
    TIKTOK_SIGNATURE_HEADER,
    ZENDESK_SIGNATURE_HEADER,
    ZENDESK_TIMESTAMP_HEADER,
    LINKEDIN_SIGNATURE_HEADER,
    GENERIC_SIGNATURE_HEADER,
    GENERIC_TIMESTAMP_HEADER,
]

secrets = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
bodies = st.binary(max_size=300)
# Unix seconds the verifiers take: up to 10 digits.
unix_seconds = st.integers(min_value=0, max_value=9_999_999_999)
in_window = st.integers(min_value=-WINDOW_S, max_value=WINDOW_S)


def verify(platform: str, headers: Headers, body: bytes, secret: str, now: datetime) -> None:
    verify_webhook(platform, headers, body, {platform: secret}, now)


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


@fuzz_settings(300)
@given(
    platform=st.sampled_from(sorted(SIGNERS)),
    body=bodies,
    secret=secrets,
    signed_at=unix_seconds,
    skew=in_window,
)
def test_a_correctly_signed_fresh_request_always_verifies(
    platform: str, body: bytes, secret: str, signed_at: int, skew: int
) -> None:
    headers = SIGNERS[platform](body, secret, str(signed_at))

    verify(platform, headers, body, secret, at(signed_at) + timedelta(seconds=skew))


@fuzz_settings(300)
@given(
    platform=st.sampled_from(sorted(SIGNERS)),
    body=bodies,
    other=bodies,
    secret=secrets,
    signed_at=unix_seconds,
)
def test_a_tampered_body_never_verifies(
    platform: str, body: bytes, other: bytes, secret: str, signed_at: int
) -> None:
    assume(other != body)
    headers = SIGNERS[platform](body, secret, str(signed_at))

    with pytest.raises(SignatureError):
        verify(platform, headers, other, secret, at(signed_at))


@fuzz_settings(200)
@given(
    platform=st.sampled_from(TIMED),
    body=bodies,
    secret=secrets,
    signed_at=unix_seconds,
    presented_at=unix_seconds,
)
def test_a_tampered_timestamp_never_verifies(
    platform: str, body: bytes, secret: str, signed_at: int, presented_at: int
) -> None:
    assume(presented_at != signed_at)
    signed = SIGNERS[platform](body, secret, str(signed_at))
    presented = SIGNERS[platform](b"", "", str(presented_at))  # only its timestamp is kept
    headers = _swap_timestamp(platform, signed, presented)

    with pytest.raises(SignatureError):
        verify(platform, headers, body, secret, at(presented_at))


def _swap_timestamp(platform: str, signed: Headers, presented: Headers) -> Headers:
    """The signed headers carrying the other request's timestamp."""
    if platform == "zendesk":
        return {**signed, ZENDESK_TIMESTAMP_HEADER: presented[ZENDESK_TIMESTAMP_HEADER]}
    if platform == "generic":
        return {**signed, GENERIC_TIMESTAMP_HEADER: presented[GENERIC_TIMESTAMP_HEADER]}
    name = STRIPE_SIGNATURE_HEADER if platform == "stripe" else TIKTOK_SIGNATURE_HEADER
    stamp = presented[name].split(",")[0]
    return {name: ",".join([stamp, *signed[name].split(",")[1:]])}


@fuzz_settings(200)
@given(
    platform=st.sampled_from(sorted(SIGNERS)),
    body=bodies,
    secret=secrets,
    other_secret=secrets,
    signed_at=unix_seconds,
)
def test_a_request_signed_with_another_secret_never_verifies(
    platform: str, body: bytes, secret: str, other_secret: str, signed_at: int
) -> None:
    assume(other_secret != secret)
    headers = SIGNERS[platform](body, other_secret, str(signed_at))

    with pytest.raises(SignatureError):
        verify(platform, headers, body, secret, at(signed_at))


@fuzz_settings(200)
@given(
    platform=st.sampled_from(TIMED),
    body=bodies,
    secret=secrets,
    signed_at=unix_seconds,
    age=st.integers(min_value=WINDOW_S + 1, max_value=10**10),
    future=st.booleans(),
)
def test_a_correct_signature_outside_the_replay_window_is_stale(
    platform: str, body: bytes, secret: str, signed_at: int, age: int, future: bool
) -> None:
    headers = SIGNERS[platform](body, secret, str(signed_at))
    now = at(signed_at) + timedelta(seconds=-age if future else age)

    with pytest.raises(StaleSignatureError):
        verify(platform, headers, body, secret, now)


@fuzz_settings(300)
@given(
    body=bodies,
    secret=secrets,
    moment=st.one_of(
        st.datetimes(timezones=st.timezones()),
        # Any date with any UTC offset ISO 8601 can write, the calendar's ends included.
        st.builds(
            lambda day, minutes: day.replace(tzinfo=timezone(timedelta(minutes=minutes))),
            st.datetimes() | st.sampled_from([datetime.min, datetime.max]),
            st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
        ),
    ),
    now=st.datetimes(timezones=st.just(UTC)),
)
def test_zendesk_accepts_any_correctly_signed_iso_timestamp_or_calls_it_stale(
    body: bytes, secret: str, moment: datetime, now: datetime
) -> None:
    """Zendesk signs an ISO 8601 timestamp; whatever date it names (year 1, year 9999, any
    offset), a genuine signature verifies or is stale: never a crash."""
    headers = sign_zendesk(body, secret, moment.isoformat())
    try:
        verify("zendesk", headers, body, secret, now)
    except StaleSignatureError:
        assert abs((now - moment).total_seconds()) > WINDOW_S - 1  # whole seconds are compared
    else:
        assert abs((now - moment).total_seconds()) <= WINDOW_S + 1


header_values = st.one_of(
    st.text(max_size=120),
    st.sampled_from(["t=1,v1=", "t=,s=", "v1=", "hmacsha256=", "=", ",", "t=1730116800"]),
    st.builds(
        "t={},v1={}".format, st.integers(-5, 10**12), st.text("0123456789abcdef", max_size=70)
    ),
)


@fuzz_settings(400)
@given(
    platform=st.sampled_from([*sorted(SIGNERS), "unknown"]),
    headers=st.dictionaries(
        st.sampled_from(HEADER_NAMES) | st.sampled_from(HEADER_NAMES).map(str.lower),
        header_values,
        max_size=4,
    ),
    body=st.binary(max_size=100),
    now=st.datetimes(timezones=st.just(UTC)),
)
def test_any_headers_end_in_a_verdict_never_a_crash(
    platform: str, headers: Headers, body: bytes, now: datetime
) -> None:
    from shared.core.errors import PermanentError

    try:
        verify(platform, headers, body, "the-secret", now)
    except SignatureError:
        return
    except PermanentError:
        assert platform == "unknown"
        return
    raise AssertionError(f"{platform}: headers {headers!r} verified without the secret")
