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
- shared/content/write.py: CopyRejectedError (copy that failed the copy check twice, 422).

A unit test checks that this docstring names every subclass of ControlroomError in shared/.

How each entry point maps them:
- CloudEvent functions: RetryableError and any unexpected exception propagate (HTTP 500,
  redelivery); PermanentError is recorded, the message is published to the dead-letter
  topic, and the function returns normally (ack).
- Agent tasks (shared/app/run_agent.py): `is_permanent` below decides. A permanent failure
  fails the task on the delivery that met it, with its reason on the run's timeline, and
  acks; anything else is recorded as a failed attempt and raised, so Pub/Sub redelivers
  until the subscription's attempts run out and the task is dead-lettered.
- HTTP functions: PermanentError subclasses map to 4xx with their message; anything else is
  a 500 and nothing was half-written because writes happen last and atomically.
"""

from __future__ import annotations

from collections.abc import Iterator


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


DATA_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, LookupError, ArithmeticError)
"""Python's own "this value is wrong" errors: a bad value, a wrong type, a missing key or
index, a division by zero. Pydantic's ValidationError is a ValueError."""


def is_permanent(exc: BaseException) -> bool:
    """Whether doing the same work again can only fail the same way (so: do not retry).

    A redelivered task runs the same code on the same input and the same data. What code
    raises about a *value* recurs on every try, so these are permanent:

    - PermanentError and its subclasses: raised on purpose by whoever knew;
    - DATA_ERRORS (ValueError, pydantic's ValidationError among them, TypeError, KeyError
      and IndexError, ArithmeticError) raised by code looking at data that is wrong.

    And these are transient, whatever else they are:

    - RetryableError and its subclasses (vendor 429/5xx, an open circuit, LLM outages);
    - OSError: ConnectionError, TimeoutError, the injected outages of the fault tests;
      io.UnsupportedOperation is both an OSError and a ValueError and counts as I/O;
    - any exception of another kind (a cloud client's gRPC or API error, a crash we did
      not foresee): unknown means retry, as before, and the dead-letter path still ends it;
    - a data error *caused by* one of those: a library that wraps an I/O failure in a
      ValueError (Firestore raises "Failed to commit transaction in 5 attempts" as a
      ValueError from the Aborted of a contended transaction) is judged by its cause.

    Decoding a vendor's or an LLM's answer (JSONDecodeError, a ValidationError of a reply)
    is a ValueError too, which is why the adapters map those themselves (shared.http.client
    and shared.llm answer with Vendor*/Llm* errors that say which it is) before any reaches
    here. LangGraph's default retry policy draws the same line (it does not retry
    ValueError, TypeError, LookupError or ArithmeticError).
    """
    if isinstance(exc, RetryableError):
        return False
    if isinstance(exc, PermanentError):
        return True
    for link in _chain(exc):
        if isinstance(link, RetryableError | OSError):
            return False
        if not isinstance(link, (PermanentError, *DATA_ERRORS)):
            return False
    return True


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it was raised from or while handling, as a traceback shows."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
