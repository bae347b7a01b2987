"""The artifact store in a Cloud Storage bucket, with V4 signed URLs.

Signing on Cloud Run: the runtime's Application Default Credentials (the metadata server's
service-account token) hold no private key, so the client library cannot sign locally.
`url()` then passes the service account's email and a fresh access token to
`generate_signed_url`, which signs through the IAM Credentials API (`signBlob`). That needs
the IAM Service Account Credentials API enabled and the function's service account granted
`roles/iam.serviceAccountTokenCreator` on itself, besides read access to the bucket. A key
file or impersonated credentials sign without that round trip. User credentials (`gcloud auth
application-default login`) belong to no service account and cannot sign: `url()` returns
None and the caller serves the bytes itself.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import google.auth
import google.cloud.storage as storage  # this form: the package ships no py.typed for mypy
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials, Signing
from google.auth.transport.requests import Request
from google.cloud.storage.exceptions import DataCorruption
from google.cloud.storage.retry import DEFAULT_RETRY

from shared.artifacts.errors import ArtifactBucketMissingError, ArtifactStoreUnavailableError
from shared.artifacts.ports import StoredArtifact, infer_content_type, object_key, sha256_hex
from shared.core.errors import PermanentError

logger = logging.getLogger(__name__)

STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
SHA256_METADATA = "sha256"  # custom object metadata, so `stat` can return it
TIMEOUT_S = 30.0
# What the client library raises for a failed call; anything else is a bug and propagates.
GCS_FAILURES = (
    api_exceptions.GoogleAPICallError,
    api_exceptions.RetryError,
    requests.RequestException,
    auth_exceptions.GoogleAuthError,
    DataCorruption,
)


class GcsArtifactStore:
    """Objects `runs/{run_id}/{name}` in one bucket; `url` is a V4 signed GET URL.

    `client` and `credentials` default to a client on Application Default Credentials, made
    on first use. Uploads are retried on transient errors even though they carry no
    generation precondition: rewriting an artifact with the same bytes is harmless.
    """

    def __init__(
        self,
        bucket: str,
        *,
        project: str | None = None,
        url_ttl_s: int = 3600,
        client: storage.Client | None = None,
        credentials: Credentials | None = None,
        retry: Retry | None = DEFAULT_RETRY,
    ) -> None:
        self.bucket_name = bucket
        self.project = project
        self.url_ttl_s = url_ttl_s
        self.retry = retry
        self._client = client
        self._credentials = credentials

    @property
    def client(self) -> storage.Client:
        """The storage client, created on first use."""
        if self._client is None:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=[STORAGE_SCOPE])
            self._client = storage.Client(project=self.project, credentials=self._credentials)
        return self._client

    @property
    def credentials(self) -> Credentials:
        """The credentials the client authenticates (and signs) with."""
        if self._credentials is None:
            # google-cloud-core keeps a client's credentials in `_credentials`.
            self._credentials = self.client._credentials
        return self._credentials

    def put(
        self, run_id: str, name: str, content: bytes, content_type: str | None = None
    ) -> StoredArtifact:
        """A multipart upload: the object appears whole or not at all."""
        key = object_key(run_id, name)
        kind = content_type or infer_content_type(name)
        digest = sha256_hex(content)
        blob = self._blob(key)
        blob.metadata = {SHA256_METADATA: digest}
        try:
            blob.upload_from_string(content, content_type=kind, timeout=TIMEOUT_S, retry=self.retry)
        except api_exceptions.NotFound as error:  # an upload 404s only for its bucket
            raise ArtifactBucketMissingError("gs", self.bucket_name, error.message) from error
        except GCS_FAILURES as error:
            raise translate_gcs_error(error) from error
        return StoredArtifact(run_id, name, self._uri(key), len(content), digest, kind)

    def get(self, run_id: str, name: str) -> bytes | None:
        """The object's media (checksum verified), or None if it does not exist."""
        key = object_key(run_id, name)
        try:
            return bytes(self._blob(key).download_as_bytes(timeout=TIMEOUT_S, retry=self.retry))
        except api_exceptions.NotFound:
            return None
        except GCS_FAILURES as error:
            raise translate_gcs_error(error) from error

    def stat(self, run_id: str, name: str) -> StoredArtifact | None:
        """The object's metadata: size, type and the SHA-256 kept in its custom metadata."""
        key = object_key(run_id, name)
        try:
            blob = self._bucket().get_blob(key, timeout=TIMEOUT_S, retry=self.retry)
        except GCS_FAILURES as error:
            raise translate_gcs_error(error) from error
        if blob is None:
            return None
        digest = (blob.metadata or {}).get(SHA256_METADATA)
        if digest is None:  # an object written by something else: hash its bytes
            content = self.get(run_id, name)
            if content is None:
                return None
            digest = sha256_hex(content)
        kind = blob.content_type or infer_content_type(name)
        return StoredArtifact(run_id, name, self._uri(key), int(blob.size or 0), digest, kind)

    def url(self, run_id: str, name: str) -> str | None:
        """A V4 signed GET URL valid for `url_ttl_s`, or None if the credentials cannot sign."""
        key = object_key(run_id, name)
        try:
            signer = iam_signing_arguments(self.credentials)
            if signer is None:
                logger.warning("GCS credentials belong to no service account; no signed URL")
                return None
            return str(
                self._blob(key).generate_signed_url(
                    version="v4",
                    expiration=timedelta(seconds=self.url_ttl_s),
                    method="GET",
                    **signer,
                )
            )
        except auth_exceptions.TransportError as error:
            # The library's signBlob call reports every non-200 answer this way.
            raise PermanentError(
                f"cannot sign a GCS URL through IAM signBlob ({error}); enable the IAM "
                "Credentials API and grant the service account "
                "roles/iam.serviceAccountTokenCreator on itself"
            ) from error
        except GCS_FAILURES as error:
            raise translate_gcs_error(error) from error

    def _bucket(self) -> storage.Bucket:
        return self.client.bucket(self.bucket_name)

    def _blob(self, key: str) -> storage.Blob:
        return self._bucket().blob(key)

    def _uri(self, key: str) -> str:
        return f"gs://{self.bucket_name}/{key}"


def iam_signing_arguments(credentials: Credentials) -> dict[str, str] | None:
    """How `generate_signed_url` signs with these credentials.

    `{}` when they hold a key (service-account key, impersonated credentials); the service
    account's email and an access token for IAM signBlob when they do not (Compute Engine /
    Cloud Run metadata credentials); None when they belong to no service account.
    """
    if isinstance(credentials, Signing):
        return {}
    email = getattr(credentials, "service_account_email", None)
    if email is None:
        return None
    # Metadata-server credentials say "default" until a refresh reads the real email.
    if not credentials.valid or email == "default":
        credentials.refresh(Request())
        email = credentials.service_account_email  # type: ignore[attr-defined]
    return {"service_account_email": str(email), "access_token": str(credentials.token)}


def translate_gcs_error(error: Exception) -> Exception:
    """The project's error for one of GCS_FAILURES: transient, or permanent."""
    transient = (
        api_exceptions.TooManyRequests
        | api_exceptions.ServerError
        | api_exceptions.RetryError
        | requests.ConnectionError
        | requests.Timeout
        | auth_exceptions.TransportError
        | DataCorruption
    )
    if isinstance(error, transient) or getattr(error, "retryable", False):
        return ArtifactStoreUnavailableError(f"Cloud Storage is unavailable: {error}")
    if isinstance(error, api_exceptions.GoogleAPICallError):
        return PermanentError(f"Cloud Storage refused the request: {error.message}")
    return PermanentError(f"Cloud Storage client error: {error}")
