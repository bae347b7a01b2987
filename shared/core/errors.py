"""The one exception tree of controlroom.

    ControlroomError
     ├── RetryableError      transient: a handler raises it so Pub/Sub redelivers with backoff
     └── PermanentError      can never succeed: recorded on the timeline and dead-lettered
          ├── InvalidMessageError   a Pub/Sub message that fails its schema
          ├── InvalidRequestError   an HTTP request body or parameter that is wrong (400)
          │    ├── PayloadTooLargeError      a body over the size limit (413)
          │    └── UnsupportedMediaTypeError a body that is not JSON (415)
          ├── NotFoundError         a resource named in the URL does not exist (404)
          ├── ConflictError         the stored state does not allow the request (409)
          ├── TooManyRequestsError  over a caller's rate limit, with Retry-After (429)
          ├── UnauthorizedError     a missing or wrong credential (401)
          │    └── SignatureError   webhook signatures (shared/security/signatures.py)
          ├── ForbiddenError        a valid credential without the right scope, or a form
          │                         without its anti-forgery token (403)
          ├── UnknownWorkflowError  a run request naming a workflow nobody declared (400)
          └── InvalidParamsError    run parameters their workflow's params model refuses
                                    (400 at POST /runs; a run request carrying them is
                                    dead-lettered by the supervisor, no run is created)

Subtrees defined next to the code that raises them (each subclasses the two above):
- shared/llm/errors.py: LlmError; LlmTransientError, LlmUnavailableError (retryable);
  LlmRequestError, LlmOutputError (permanent).
- shared/http/errors.py: VendorRetryableError (429/5xx/timeouts, with the vendor's
  Retry-After); VendorPermanentError (other 4xx, answered as 502).
- shared/http/breaker.py: VendorUnavailableError (retryable: the circuit is open).
- shared/email/errors.py: EmailNotAcceptedError (retryable); EmailConfigError (permanent).
- shared/artifacts/errors.py: ArtifactStoreUnavailableError (retryable);
  ArtifactBucketMissingError (permanent).
- shared/support/ratelimit.py: OutboundRateLimited (retryable: a reply waits for its slot).
- shared/support/outbound.py: OutboundConfigError (a vendor's credentials half set),
  InvalidConversationKeyError.
- shared/support/inbound.py: InvalidPayloadError (a webhook payload that fails its schema).
- shared/security/signatures.py: SignatureError's SecretNotConfiguredError,
  MissingSignatureError, MalformedSignatureError, SignatureMismatchError,
  StaleSignatureError; UnknownPlatformError (an InvalidRequestError).
- shared/adapters/csv_source.py: CsvImportError (an InvalidRequestError naming file, row
  and column).

A unit test checks that this docstring names every subclass of ControlroomError in shared/.

How each entry point maps them:
- CloudEvent functions: RetryableError and any unexpected exception propagate (HTTP 500,
  redelivery); PermanentError is recorded, the message is published to the dead-letter
  topic, and the function returns normally (ack).
- HTTP functions: PermanentError subclasses map to 4xx with their message; anything else is
  a 500 and nothing was half-written because writes happen last and atomically.
"""

from __future__ import annotations


class ControlroomError(Exception):
    """Base of every error controlroom raises on purpose."""


class RetryableError(ControlroomError):
    """A transient failure: try the same work again later."""


class PermanentError(ControlroomError):
    """A failure that no retry can fix."""

    http_status = 400


class InvalidMessageError(PermanentError):
    """A Pub/Sub message whose envelope or payload fails validation."""


class InvalidRequestError(PermanentError):
    """An HTTP request that is malformed or fails validation."""


class PayloadTooLargeError(InvalidRequestError):
    """A request body over the endpoint's size limit."""

    http_status = 413


class UnsupportedMediaTypeError(InvalidRequestError):
    """A request body in a content type the endpoint does not take."""

    http_status = 415


class NotFoundError(PermanentError):
    """A resource named in a URL (conversation, draft, run) does not exist."""

    http_status = 404


class ConflictError(PermanentError):
    """A well-formed request that the stored state does not allow."""

    http_status = 409


class TooManyRequestsError(PermanentError):
    """A caller over its rate limit; `retry_after_s` goes out as Retry-After."""

    http_status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnauthorizedError(PermanentError):
    """A request without the right credential."""

    http_status = 401


class ForbiddenError(PermanentError):
    """A known caller who may not do this (missing scope, missing anti-forgery token)."""

    http_status = 403


class UnknownWorkflowError(PermanentError):
    """A run request for a workflow that is not declared."""


class InvalidParamsError(PermanentError):
    """Run parameters that their workflow's params model refuses, naming each field and why."""
