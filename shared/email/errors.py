"""The errors of the email senders, placed in controlroom's one exception tree.

ControlroomError
 ├── RetryableError
 │    └── VendorRetryableError      the provider may have taken the message or not: a
 │         │                        5xx, a timeout, a connection lost mid-send. Nothing
 │         │                        is retried in process; the caller's redelivery asks
 │         │                        `find_sent` first (where the provider can answer)
 │         └── EmailNotAcceptedError the provider surely did not take it: HTTP 429, an
 │                                  SMTP 4xx reply, a refused connection. Retried in
 │                                  process a few times, then propagates like its parent
 └── PermanentError
      ├── VendorPermanentError      a refusal no retry fixes: a bad key, an unverified
      │                             sender, a rejected recipient, an SMTP 5xx reply
      └── EmailConfigError          the chosen provider's settings are missing or wrong
"""

from __future__ import annotations

from shared.core.errors import PermanentError
from shared.http.errors import VendorRetryableError


class EmailNotAcceptedError(VendorRetryableError):
    """The provider refused the message for now, so sending it again cannot duplicate it."""


class EmailConfigError(PermanentError):
    """The configured email provider lacks a setting it needs."""
