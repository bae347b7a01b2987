"""Errors of the LLM layer, placed in controlroom's one exception tree (shared.core.errors).

    ControlroomError
     └── LlmError                     base of everything below
          ├── LlmTransientError       (also RetryableError) one call failed but may succeed if
          │                           repeated: HTTP 408/409/429/5xx, a timeout, a dropped
          │                           connection; `retry_after_s` is the server's hint if any
          ├── LlmUnavailableError     (also RetryableError) every provider of the fallback
          │                           chain failed, at least one of them transiently
          ├── LlmRequestError         (also PermanentError) a provider refused the request:
          │                           bad key, unknown model, invalid request, no quota left
          └── LlmOutputError          (also PermanentError) the answer is unusable: empty,
                                      refused, or not valid JSON for the requested schema

Inside a provider, LlmTransientError is retried with tenacity; LlmOutputError is asked again
once. What is left falls through to the next provider of the chain; what the chain cannot
answer propagates, so a CloudEvent handler redelivers (retryable) or dead-letters (permanent).
"""

from __future__ import annotations

from shared.core.errors import ControlroomError, PermanentError, RetryableError


class LlmError(ControlroomError):
    """Base of the LLM layer's errors."""


class LlmTransientError(LlmError, RetryableError):
    """A call that failed transiently; `retry_after_s` is the server's wait hint, if it gave one."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class LlmUnavailableError(LlmError, RetryableError):
    """Every provider of the chain failed, at least one of them transiently."""


class LlmRequestError(LlmError, PermanentError):
    """A provider refused the request itself (4xx other than 408/409/429, or no quota)."""


class LlmOutputError(LlmError, PermanentError):
    """An answer that cannot be used; carries the usage it cost anyway."""

    def __init__(
        self, message: str, tokens_in: int = 0, tokens_out: int = 0, cost_usd: float = 0.0
    ) -> None:
        super().__init__(message)
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.cost_usd = cost_usd
