"""GCS V4 signed URLs, signed offline with a service-account key made for the test.

The signature is checked the way Cloud Storage checks it: rebuild the canonical request and
string-to-sign of the documented V4 process from the URL, and verify them with the key's
public half.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.auth import compute_engine
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from shared.artifacts.gcs import GcsArtifactStore, iam_signing_arguments
from tests.helpers.fakes.network import NetworkGuard, guard_loopback_only

PROJECT = "controlroom-test"
BUCKET = "cr-artifacts-test"
EMAIL = f"status@{PROJECT}.iam.gserviceaccount.com"


@pytest.fixture(autouse=True)
def guard(monkeypatch: pytest.MonkeyPatch) -> NetworkGuard:
    """Every test here runs offline: any attempt to leave loopback fails and is recorded."""
    return guard_loopback_only(monkeypatch)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key, like the ones service-account key files hold."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_file_credentials(key: rsa.RSAPrivateKey) -> service_account.Credentials:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key-1",
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return service_account.Credentials.from_service_account_info(info)  # type: ignore[no-untyped-call]


def store_with(credentials: object, ttl_s: int = 900) -> GcsArtifactStore:
    client = storage.Client(project=PROJECT, credentials=credentials)  # type: ignore[arg-type]
    return GcsArtifactStore(
        BUCKET,
        project=PROJECT,
        url_ttl_s=ttl_s,
        client=client,
        credentials=credentials,  # type: ignore[arg-type]
    )


def string_to_sign(url: str) -> tuple[bytes, bytes]:
    """(the V4 string-to-sign rebuilt from the URL, the URL's signature)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    canonical_query = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}"
        for k, v in sorted(query.items())
        if k != "X-Goog-Signature"
    )
    canonical_request = "\n".join(
        (
            "GET",
            parts.path,
            canonical_query,
            f"host:{parts.netloc}",
            "",  # the canonical headers end with an empty line
            "host",
            "UNSIGNED-PAYLOAD",
        )
    )
    scope = query["X-Goog-Credential"].split("/", 1)[1]
    text = "\n".join(
        [
            query["X-Goog-Algorithm"],
            query["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    return text.encode(), bytes.fromhex(query["X-Goog-Signature"])


def verify(key: rsa.RSAPrivateKey, message: bytes, signature: bytes) -> None:
    """Raises InvalidSignature unless `key` signed `message` (RSASSA-PKCS1-v1_5, SHA-256)."""
    key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_v4_url_is_signed_by_the_key_and_expires_after_the_ttl(
    private_key: rsa.RSAPrivateKey, guard: NetworkGuard
) -> None:
    store = store_with(key_file_credentials(private_key), ttl_s=900)
    before = datetime.now(UTC).replace(microsecond=0)

    url = store.url("run-1", "weekly report.md")

    assert url is not None
    assert guard.attempts == []  # signed locally: no token, no IAM call
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert (parts.scheme, parts.netloc) == ("https", "storage.googleapis.com")
    assert parts.path == f"/{BUCKET}/runs/run-1/{quote('weekly report.md')}"
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "900"
    assert query["X-Goog-SignedHeaders"] == "host"
    signed_at = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= datetime.now(UTC)
    scope_date = signed_at.strftime("%Y%m%d")
    assert query["X-Goog-Credential"] == f"{EMAIL}/{scope_date}/auto/storage/goog4_request"
    verify(private_key, *string_to_sign(url))


def test_a_signature_is_bound_to_its_object(private_key: rsa.RSAPrivateKey) -> None:
    """The check above can fail: one URL's signature does not verify another's request."""
    store = store_with(key_file_credentials(private_key))
    md = store.url("run-1", "report.md")
    html = store.url("run-1", "report.html")
    assert md is not None and html is not None
    md_text, md_signature = string_to_sign(md)
    html_text, _ = string_to_sign(html)

    verify(private_key, md_text, md_signature)
    with pytest.raises(InvalidSignature):
        verify(private_key, html_text, md_signature)


def test_key_credentials_sign_locally(private_key: rsa.RSAPrivateKey) -> None:
    assert iam_signing_arguments(key_file_credentials(private_key)) == {}


def metadata_server_credentials() -> compute_engine.Credentials:
    """Cloud Run's ADC as google-auth holds them after a refresh: an email and a token."""
    credentials = compute_engine.Credentials(  # type: ignore[no-untyped-call]
        service_account_email=EMAIL, universe_domain="googleapis.com"
    )
    credentials.token = "ya29.metadata-token"
    credentials.expiry = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)
    return credentials


def test_metadata_credentials_sign_through_iam_with_email_and_token() -> None:
    assert iam_signing_arguments(metadata_server_credentials()) == {
        "service_account_email": EMAIL,
        "access_token": "ya29.metadata-token",
    }


def test_user_credentials_cannot_sign_so_the_caller_serves_bytes(guard: NetworkGuard) -> None:
    store = store_with(user_credentials.Credentials(token="user-token"))  # type: ignore[no-untyped-call]

    assert store.url("run-1", "report.md") is None
    assert guard.attempts == []


def test_anonymous_credentials_cannot_sign() -> None:
    assert iam_signing_arguments(AnonymousCredentials()) is None  # type: ignore[no-untyped-call]
