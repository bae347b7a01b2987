"""The artifact store in an S3 bucket (AWS S3, or an S3-compatible server such as MinIO)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from shared.artifacts.errors import ArtifactBucketMissingError, ArtifactStoreUnavailableError
from shared.artifacts.ports import StoredArtifact, infer_content_type, object_key, sha256_hex
from shared.core.errors import PermanentError

SHA256_METADATA = "sha256"  # stored as x-amz-meta-sha256 so `stat` can return it
MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout"}


class S3ArtifactStore:
    """Objects `runs/{run_id}/{name}` in one bucket; `url` is a presigned GET (SigV4).

    Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
    a profile, an instance or workload role). With `endpoint_url` (MinIO, a moto server)
    requests use path-style addressing, which such servers expect. The client is created on
    first use.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        url_ttl_s: int = 3600,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.url_ttl_s = url_ttl_s
        self._client = client

    @property
    def client(self) -> Any:
        """The boto3 S3 client, created on first use."""
        if self._client is None:
            config = Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=10,
                read_timeout=30,
            )
            self._client = boto3.client(
                "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config
            )
        return self._client

    def put(
        self, run_id: str, name: str, content: bytes, content_type: str | None = None
    ) -> StoredArtifact:
        """PutObject: S3 stores an object whole or not at all."""
        key = object_key(run_id, name)
        kind = content_type or infer_content_type(name)
        digest = sha256_hex(content)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=content,
                ContentType=kind,
                Metadata={SHA256_METADATA: digest},
            )
        except (ClientError, BotoCoreError) as error:
            raise translate_s3_error(error, self.bucket) from error
        return StoredArtifact(run_id, name, self._uri(key), len(content), digest, kind)

    def get(self, run_id: str, name: str) -> bytes | None:
        """GetObject's body, or None for a missing key."""
        key = object_key(run_id, name)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except ClientError as error:
            if _error_code(error) in MISSING_KEY_CODES:
                return None
            raise translate_s3_error(error, self.bucket) from error
        except BotoCoreError as error:
            raise translate_s3_error(error, self.bucket) from error

    def stat(self, run_id: str, name: str) -> StoredArtifact | None:
        """HeadObject: size, type and the SHA-256 kept in the object's metadata."""
        key = object_key(run_id, name)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _error_code(error) in MISSING_KEY_CODES:
                return None
            raise translate_s3_error(error, self.bucket) from error
        except BotoCoreError as error:
            raise translate_s3_error(error, self.bucket) from error
        digest = head.get("Metadata", {}).get(SHA256_METADATA)
        if digest is None:  # an object written by something else: hash its bytes
            content = self.get(run_id, name)
            if content is None:
                return None
            digest = sha256_hex(content)
        kind = head.get("ContentType") or infer_content_type(name)
        return StoredArtifact(
            run_id, name, self._uri(key), int(head["ContentLength"]), str(digest), str(kind)
        )

    def url(self, run_id: str, name: str) -> str | None:
        """A presigned GET URL valid for `url_ttl_s` seconds (signed locally, no request)."""
        key = object_key(run_id, name)
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=self.url_ttl_s,
            )
        )

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate_s3_error(error: Exception, bucket: str) -> Exception:
    """The project's error for a botocore failure: missing bucket, transient, or permanent."""
    if isinstance(error, ClientError):
        code = _error_code(error)
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code == "NoSuchBucket":
            return ArtifactBucketMissingError("s3", bucket, str(error))
        if code in TRANSIENT_CODES or status == 429 or status >= 500:
            return ArtifactStoreUnavailableError(f"S3 is unavailable: {error}")
        return PermanentError(f"S3 refused the request: {error}")
    if isinstance(error, BotoConnectionError | HTTPClientError | IncompleteReadError):
        return ArtifactStoreUnavailableError(f"S3 is unreachable: {error}")
    return PermanentError(f"S3 client error: {error}")
