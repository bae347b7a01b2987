"""The errors of the vendor adapters, placed in controlroom's one exception tree.

    ControlroomError
     ├── RetryableError
     │    └── VendorRetryableError   429, 408 or 5xx from the vendor, a timeout or a dropped
     │                               connection; `retry_after_s` holds the vendor's
     │                               Retry-After in seconds when it sent one
     └── PermanentError
          └── VendorPermanentError   any other 4xx (bad key, missing scope, bad parameter,
                                     unknown object), or a response that is not the documented
                                     shape; the message carries the vendor's own words

Entry points need nothing new: like every RetryableError, a VendorRetryableError propagates
so Pub/Sub redelivers, and a VendorPermanentError is recorded and dead-lettered. An HTTP
handler answers a VendorPermanentError with 502: the vendor refused, not the caller.
"""

from __future__ import annotations

from shared.core.errors import PermanentError, RetryableError


class VendorRetryableError(RetryableError):
    """A vendor call that failed for now and may succeed later."""

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.status = status
        self.retry_after_s = retry_after_s


class VendorPermanentError(PermanentError):
    """A vendor call that no retry can fix."""

    http_status = 502

    def __init__(self, vendor: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.status = status
