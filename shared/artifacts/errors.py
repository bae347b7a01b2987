"""Errors of the artifact stores (a subtree of shared.core.errors).

    PermanentError
     ├── InvalidRequestError            a run id or name that is not one safe path segment
     └── ArtifactBucketMissingError     the configured bucket does not exist
    RetryableError
     └── ArtifactStoreUnavailableError  the store timed out, throttled or answered 5xx

Other refusals of a store (access denied, a bad request) are PermanentError with the store's
own message.
"""

from __future__ import annotations

from shared.core.errors import PermanentError, RetryableError


class ArtifactBucketMissingError(PermanentError):
    """The configured bucket does not exist: create it or fix CONTROLROOM_ARTIFACT_BUCKET."""

    def __init__(self, scheme: str, bucket: str, detail: str = "") -> None:
        message = (
            f"artifact bucket {scheme}://{bucket} does not exist; create it or set "
            "CONTROLROOM_ARTIFACT_BUCKET to an existing bucket"
        )
        super().__init__(f"{message} ({detail})" if detail else message)
        self.bucket = bucket


class ArtifactStoreUnavailableError(RetryableError):
    """A transient failure of the store (timeout, throttling, 5xx): try again later."""
