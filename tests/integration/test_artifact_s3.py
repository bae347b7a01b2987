"""The S3 artifact store through boto3 against moto's standalone S3 server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from shared.artifacts import ArtifactBucketMissingError, ArtifactStoreUnavailableError
from shared.artifacts.s3 import S3ArtifactStore
from tests.helpers.fakes.network import guard_loopback_only
from tests.unit.artifacts.test_artifact_conformance import CONFORMANCE, REPORT, Check, new_run_id

pytestmark = pytest.mark.integration

REGION = "eu-west-3"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, for this module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Static test credentials, so boto3 never looks further (profiles, instance metadata)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def bucket(moto_endpoint: str, aws_env: None) -> str:
    """A new bucket with a unique name."""
    name = f"cr-artifacts-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def store(bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3ArtifactStore:
    """A store on that bucket; only loopback may be reached while it runs."""
    guard_loopback_only(monkeypatch)
    return S3ArtifactStore(bucket, endpoint_url=moto_endpoint, region=REGION, url_ttl_s=600)


@pytest.mark.parametrize("check", CONFORMANCE, ids=lambda c: c.__name__)
def test_s3_store_conforms(check: Check, store: S3ArtifactStore) -> None:
    check(store, new_run_id())


def test_objects_are_keyed_runs_run_name_with_type_and_hash(
    store: S3ArtifactStore, bucket: str, moto_endpoint: str
) -> None:
    run_id = new_run_id()

    stored = store.put(run_id, "report.md", REPORT)

    assert stored.uri == f"s3://{bucket}/runs/{run_id}/report.md"
    raw = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    head = raw.head_object(Bucket=bucket, Key=f"runs/{run_id}/report.md")
    assert head["ContentType"] == "text/markdown; charset=utf-8"
    assert head["Metadata"] == {"sha256": stored.sha256}


def test_binary_content_round_trips(store: S3ArtifactStore) -> None:
    run_id = new_run_id()
    content = bytes(range(256)) * 64

    store.put(run_id, "figure.png", content)

    assert store.get(run_id, "figure.png") == content


def sigv4_query_signature(url: str, secret: str) -> str:
    """The SigV4 query signature of a presigned GET, computed from the documented process."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(query.items())
        if k != "X-Amz-Signature"
    )
    canonical_request = "\n".join(
        ("GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD")
    )
    scope = query["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        (
            "AWS4-HMAC-SHA256",
            query["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        )
    )
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_presigned_url_serves_the_bytes(store: S3ArtifactStore, bucket: str) -> None:
    """moto refuses unsigned GETs but checks neither signature nor expiry: both checked here."""
    run_id = new_run_id()
    store.put(run_id, "report.html", "<h1>Café</h1>".encode(), "text/html; charset=utf-8")

    url = store.url(run_id, "report.html")

    assert url is not None
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert parts.path == f"/{bucket}/runs/{run_id}/report.html"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "600"
    assert query["X-Amz-Credential"].startswith("testing/")
    assert query["X-Amz-Credential"].endswith(f"/{REGION}/s3/aws4_request")
    assert query["X-Amz-Signature"] == sigv4_query_signature(url, secret="testing")
    assert query["X-Amz-Signature"] != sigv4_query_signature(url, secret="another")
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == "<h1>Café</h1>".encode()
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    unsigned = httpx.get(url.split("?", 1)[0], timeout=10)
    assert unsigned.status_code == 403


def test_object_written_without_our_metadata_is_hashed(
    store: S3ArtifactStore, bucket: str, moto_endpoint: str
) -> None:
    run_id = new_run_id()
    raw = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    raw.put_object(Bucket=bucket, Key=f"runs/{run_id}/notes.txt", Body=b"by hand")

    stat = store.stat(run_id, "notes.txt")

    assert stat is not None
    assert stat.size == 7
    assert stat.sha256 == hashlib.sha256(b"by hand").hexdigest()


def test_missing_bucket_is_a_clear_permanent_error(
    moto_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard_loopback_only(monkeypatch)
    store = S3ArtifactStore("cr-no-such-bucket", endpoint_url=moto_endpoint, region=REGION)

    with pytest.raises(ArtifactBucketMissingError, match=r"s3://cr-no-such-bucket does not exist"):
        store.put("run-1", "report.md", REPORT)
    with pytest.raises(ArtifactBucketMissingError):
        store.get("run-1", "report.md")


def test_unreachable_endpoint_is_retryable(aws_env: None) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2),
    )
    store = S3ArtifactStore("cr-artifacts", endpoint_url=endpoint, client=client)

    with pytest.raises(ArtifactStoreUnavailableError):
        store.put("run-1", "report.md", REPORT)
