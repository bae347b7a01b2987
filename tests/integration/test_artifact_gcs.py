"""The GCS artifact store through google-cloud-storage against a replay of the JSON API.

There is no Cloud Storage emulator, so a recording server on loopback answers the three
calls the store makes with the shapes the JSON API documents:

- upload: `POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart`, a multipart/related
  body (object metadata as JSON, then the media), answered with the object resource;
- metadata: `GET /storage/v1/b/{bucket}/o/{object}`, the object resource;
- media: `GET /download/storage/v1/b/{bucket}/o/{object}?alt=media`, the bytes with their
  `x-goog-hash` (crc32c, md5), which the client verifies;
- bucket: `GET /storage/v1/b/{bucket}`, the bucket resource. google-cloud-storage 3.x fetches
  it in a background thread on a bucket's first use (project number and location for its
  telemetry), so it races the store's own calls: failures are injected per call kind
  (`FakeGcs.fail_next`) rather than queued on the server, and assertions look at object
  calls only;
- errors: `{"error": {"code", "message", "errors": [{"reason", ...}]}}` with the status.

The recording server sends text bodies only, so contents here are UTF-8 (reports are).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import google_crc32c
import pytest
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from shared.artifacts import ArtifactBucketMissingError, ArtifactStoreUnavailableError
from shared.artifacts.gcs import GcsArtifactStore
from shared.core.errors import PermanentError
from tests.helpers.fakes.network import guard_loopback_only
from tests.helpers.fakes.recording_server import RecordedRequest, RecordingServer, Reply
from tests.unit.artifacts.test_artifact_conformance import CONFORMANCE, REPORT, Check, new_run_id

pytestmark = pytest.mark.integration

PROJECT = "controlroom-test"
BUCKET = "cr-artifacts-test"
FAST_RETRY: Retry = DEFAULT_RETRY.with_delay(initial=0.01, maximum=0.05).with_timeout(5.0)


@dataclass
class StoredObject:
    """One object as the fake bucket keeps it."""

    data: bytes
    content_type: str
    metadata: dict[str, str]
    generation: int


def gcs_error(status: int, message: str, reason: str) -> Reply:
    """The JSON API's error body."""
    errors = [{"message": message, "domain": "global", "reason": reason}]
    return Reply(status, {"error": {"code": status, "message": message, "errors": errors}})


class FakeGcs:
    """The documented JSON API shapes for one existing bucket, kept in memory."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.objects: dict[str, StoredObject] = {}
        self._lock = threading.Lock()
        self._generation = 1_700_000_000_000_000
        self._failures: dict[str, list[Reply]] = {"upload": [], "media": [], "metadata": []}

    def fail_next(self, kind: str, reply: Reply) -> None:
        """Answer the next call of `kind` ("upload", "media", "metadata") with `reply`."""
        with self._lock:
            self._failures[kind].append(reply)

    def _injected(self, kind: str) -> Reply | None:
        with self._lock:
            queued = self._failures[kind]
            return queued.pop(0) if queued else None

    def respond(self, request: RecordedRequest) -> Reply:
        """Route one request to upload, metadata or media."""
        url = urlsplit(request.path)
        query = parse_qs(url.query)
        upload = re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", url.path)
        media = re.fullmatch(r"/download/storage/v1/b/([^/]+)/o/(.+)", url.path)
        meta = re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)", url.path)
        bucket = re.fullmatch(r"/storage/v1/b/([^/]+)", url.path)
        match = upload or media or meta or bucket
        if match is None:
            return gcs_error(404, f"Not Found: {url.path}", "notFound")
        if match.group(1) != self.bucket:
            return gcs_error(404, "The specified bucket does not exist.", "notFound")
        if bucket:
            return Reply(200, self._bucket_resource())
        kind = "upload" if upload else "media" if media else "metadata"
        injected = self._injected(kind)
        if injected is not None:
            return injected
        if upload and request.method == "POST" and query.get("uploadType") == ["multipart"]:
            return self._upload(request)
        name = unquote(match.group(2))
        with self._lock:
            stored = self.objects.get(name)
        if stored is None:
            return gcs_error(404, f"No such object: {self.bucket}/{name}", "notFound")
        if media and query.get("alt") == ["media"]:
            return Reply(200, stored.data.decode(), headers={"x-goog-hash": hashes(stored.data)})
        return Reply(200, self._resource(name, stored))

    def _upload(self, request: RecordedRequest) -> Reply:
        metadata, data, media_type = parse_multipart(request)
        with self._lock:
            self._generation += 1
            stored = StoredObject(
                data=data,
                content_type=metadata.get("contentType") or media_type,
                metadata=metadata.get("metadata") or {},
                generation=self._generation,
            )
            self.objects[metadata["name"]] = stored
        return Reply(200, self._resource(metadata["name"], stored))

    def _bucket_resource(self) -> dict[str, object]:
        """The bucket resource (storage#bucket)."""
        return {
            "kind": "storage#bucket",
            "id": self.bucket,
            "name": self.bucket,
            "projectNumber": "123456789012",
            "metageneration": "1",
            "location": "EUROPE-WEST1",
            "locationType": "region",
            "storageClass": "STANDARD",
            "etag": "CAE=",
            "timeCreated": "2026-01-01T00:00:00.000Z",
            "updated": "2026-01-01T00:00:00.000Z",
        }

    def _resource(self, name: str, stored: StoredObject) -> dict[str, object]:
        """The object resource (storage#object) as the JSON API returns it."""
        quoted = name.replace("/", "%2F")
        crc, md5 = (part.split("=", 1)[1] for part in hashes(stored.data).split(","))
        return {
            "kind": "storage#object",
            "id": f"{self.bucket}/{name}/{stored.generation}",
            "selfLink": f"https://www.googleapis.com/storage/v1/b/{self.bucket}/o/{quoted}",
            "mediaLink": (
                f"https://storage.googleapis.com/download/storage/v1/b/{self.bucket}/o/"
                f"{quoted}?generation={stored.generation}&alt=media"
            ),
            "name": name,
            "bucket": self.bucket,
            "generation": str(stored.generation),
            "metageneration": "1",
            "contentType": stored.content_type,
            "storageClass": "STANDARD",
            "size": str(len(stored.data)),
            "md5Hash": md5,
            "crc32c": crc,
            "etag": "CJ+1s9a1k4oDEAE=",
            "timeCreated": "2026-11-16T08:00:00.000Z",
            "updated": "2026-11-16T08:00:00.000Z",
            "metadata": stored.metadata,
        }


def hashes(data: bytes) -> str:
    """The `x-goog-hash` header value: base64 of the big-endian CRC32C and of the MD5."""
    crc = base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    return f"crc32c={crc},md5={md5}"


def parse_multipart(request: RecordedRequest) -> tuple[dict[str, Any], bytes, str]:
    """(object metadata, media bytes, media content type) of a multipart/related upload."""
    found = re.search(r'boundary="?([^";]+)"?', request.headers["content-type"])
    assert found, request.headers["content-type"]
    delimiter = b"--" + found.group(1).encode()
    closing = b"\r\n" + delimiter + b"--"
    assert request.body.startswith(delimiter) and request.body.endswith(closing)
    parts = request.body[len(delimiter) : -len(closing)].split(b"\r\n" + delimiter)
    assert len(parts) == 2, parts
    sections = []
    for part in parts:
        head, _, body = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n") if line)
        sections.append((headers, body))
    (meta_headers, meta_body), (media_headers, media_body) = sections
    assert meta_headers["content-type"].startswith("application/json")
    return json.loads(meta_body), media_body, media_headers["content-type"]


def object_calls(server: RecordingServer) -> list[RecordedRequest]:
    """The requests about objects (not the client's background bucket lookup)."""
    return [r for r in server.requests if "/o" in urlsplit(r.path).path]


@pytest.fixture
def fake_gcs() -> FakeGcs:
    return FakeGcs(BUCKET)


@pytest.fixture
def server(fake_gcs: FakeGcs, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    """The recording server answering as Cloud Storage; only loopback may be reached."""
    guard_loopback_only(monkeypatch)
    with RecordingServer(fake_gcs.respond) as running:
        yield running


def gcs_client(origin: str) -> storage.Client:
    """The official client pointed at the fake, without credentials."""
    return storage.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": origin},
    )


def store_on(
    server: RecordingServer, bucket: str = BUCKET, retry: Retry | None = FAST_RETRY
) -> GcsArtifactStore:
    return GcsArtifactStore(bucket, project=PROJECT, client=gcs_client(server.origin), retry=retry)


@pytest.mark.parametrize("check", CONFORMANCE, ids=lambda c: c.__name__)
def test_gcs_store_conforms(check: Check, server: RecordingServer) -> None:
    check(store_on(server), new_run_id())


def test_put_is_one_multipart_upload_with_type_and_hash(
    server: RecordingServer, fake_gcs: FakeGcs
) -> None:
    run_id = new_run_id()

    stored = store_on(server).put(run_id, "report.md", REPORT)

    assert stored.uri == f"gs://{BUCKET}/runs/{run_id}/report.md"
    [upload] = object_calls(server)
    assert upload.method == "POST"
    assert upload.path.startswith(f"/upload/storage/v1/b/{BUCKET}/o?uploadType=multipart")
    assert "authorization" not in upload.headers
    metadata, media, media_type = parse_multipart(upload)
    assert metadata["name"] == f"runs/{run_id}/report.md"
    assert metadata["metadata"] == {"sha256": stored.sha256}
    assert media == REPORT
    assert media_type == "text/markdown; charset=utf-8"
    assert fake_gcs.objects[f"runs/{run_id}/report.md"].data == REPORT


def test_get_downloads_media_and_verifies_its_checksum(server: RecordingServer) -> None:
    store = store_on(server)
    run_id = new_run_id()
    store.put(run_id, "weekly report.md", REPORT)
    server.requests.clear()

    assert store.get(run_id, "weekly report.md") == REPORT

    [download] = object_calls(server)
    assert download.method == "GET"
    path, _, query = download.path.partition("?")
    assert path == f"/download/storage/v1/b/{BUCKET}/o/runs%2F{run_id}%2Fweekly%20report.md"
    assert "alt=media" in query.split("&")


def test_corrupted_download_is_retryable(server: RecordingServer, fake_gcs: FakeGcs) -> None:
    """The client checks the media against x-goog-hash: a mismatch is not returned as data."""
    store = store_on(server, retry=None)
    run_id = new_run_id()
    store.put(run_id, "report.md", REPORT)
    fake_gcs.fail_next("media", Reply(200, "tampered", headers={"x-goog-hash": hashes(REPORT)}))

    with pytest.raises(ArtifactStoreUnavailableError):
        store.get(run_id, "report.md")


def test_missing_bucket_is_a_clear_permanent_error(server: RecordingServer) -> None:
    store = store_on(server, bucket="cr-no-such-bucket")

    with pytest.raises(ArtifactBucketMissingError, match=r"gs://cr-no-such-bucket does not exist"):
        store.put("run-1", "report.md", REPORT)


def test_upload_is_retried_after_a_transient_error(
    server: RecordingServer, fake_gcs: FakeGcs
) -> None:
    """Uploads carry no generation precondition but are retried: same bytes, same object."""
    fake_gcs.fail_next("upload", gcs_error(503, "Backend Error", "backendError"))
    run_id = new_run_id()

    store_on(server).put(run_id, "report.md", REPORT)

    assert [r.path.split("?")[0] for r in object_calls(server)] == [
        f"/upload/storage/v1/b/{BUCKET}/o"
    ] * 2
    assert fake_gcs.objects[f"runs/{run_id}/report.md"].data == REPORT


def test_transient_errors_beyond_retries_are_retryable(
    server: RecordingServer, fake_gcs: FakeGcs
) -> None:
    fake_gcs.fail_next("upload", gcs_error(503, "Backend Error", "backendError"))

    with pytest.raises(ArtifactStoreUnavailableError):
        store_on(server, retry=None).put(new_run_id(), "report.md", REPORT)


def test_refusals_are_permanent(server: RecordingServer, fake_gcs: FakeGcs) -> None:
    reply = gcs_error(403, "caller does not have storage.objects.create", "forbidden")
    fake_gcs.fail_next("upload", reply)

    with pytest.raises(PermanentError, match=r"storage\.objects\.create") as caught:
        store_on(server, retry=None).put(new_run_id(), "report.md", REPORT)
    assert not isinstance(caught.value, ArtifactStoreUnavailableError)
