"""Which failures no retry can fix: the one rule every agent task is judged by."""

from __future__ import annotations

import io
import json

import pytest
from pydantic import BaseModel, ValidationError

from shared.adapters.faults import InjectedOutage
from shared.core.errors import (
    InvalidMessageError,
    InvalidParamsError,
    PermanentError,
    RetryableError,
    is_permanent,
)
from shared.http.errors import VendorPermanentError, VendorRetryableError
from shared.llm.errors import LlmOutputError, LlmTransientError


class Row(BaseModel):
    """A row with one typed field."""

    amount: int


def validation_error() -> ValidationError:
    try:
        Row.model_validate({"amount": "lots"})
    except ValidationError as exc:
        return exc
    raise AssertionError("expected a ValidationError")


def raised_from(exc: BaseException, cause: BaseException) -> BaseException:
    """`exc` as `raise exc from cause` leaves it."""
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


def raised_while_handling(exc: BaseException, context: BaseException) -> BaseException:
    """`exc` as raising it inside `except` of `context` leaves it."""
    try:
        try:
            raise context
        except BaseException:
            raise exc  # noqa: B904  (the implicit context is the point)
    except BaseException as caught:
        return caught


class Aborted(Exception):
    """Stands in for google.api_core.exceptions.Aborted (not a data error)."""


PERMANENT = [
    PermanentError("no file"),
    InvalidMessageError("bad schema"),
    InvalidParamsError("params.window_days: Input should be a valid integer"),
    VendorPermanentError("stripe", "HTTP 400: bad", status=400),
    LlmOutputError("answer is not a valid Email"),
    validation_error(),
    ValueError("window_days must be >= 1, got 0"),
    TypeError("unsupported operand type(s)"),
    KeyError("customer"),
    IndexError("list index out of range"),
    ZeroDivisionError("division by zero"),
    json.JSONDecodeError("Expecting value", "", 0),
    raised_while_handling(ValueError("bad row"), KeyError("amount")),
    # Ours, on purpose, even when it was raised from an I/O failure.
    raised_from(PermanentError("bucket missing"), ConnectionError("refused")),
]
TRANSIENT = [
    RetryableError("try later"),
    VendorRetryableError("stripe", "HTTP 503", status=503),
    LlmTransientError("openai: malformed response body"),
    InjectedOutage("injected data source outage"),
    ConnectionError("reset by peer"),
    TimeoutError("read timed out"),
    io.UnsupportedOperation("not readable"),  # an OSError and a ValueError
    Aborted("contention"),
    RuntimeError("something we did not foresee"),
    # Firestore: ValueError("Failed to commit transaction in 5 attempts.") from Aborted.
    raised_from(ValueError("Failed to commit transaction in 5 attempts."), Aborted("contended")),
    raised_from(ValueError("bad answer"), RetryableError("upstream")),
    raised_while_handling(KeyError("cursor"), ConnectionError("dropped")),
]


@pytest.mark.parametrize("exc", PERMANENT, ids=lambda e: f"{type(e).__name__}: {e}"[:60])
def test_what_a_retry_cannot_fix_is_permanent(exc: BaseException) -> None:
    assert is_permanent(exc)


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: f"{type(e).__name__}: {e}"[:60])
def test_io_failures_and_the_unknown_are_retried(exc: BaseException) -> None:
    assert not is_permanent(exc)
