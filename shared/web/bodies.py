"""One way every HTTP function reads a request body: the declared size first (413 before a
byte is read), then the content type (415), then at most one byte over the limit whatever
Content-Length claimed or when the body is chunked (413), then JSON that must be an object
(400).

`answer_within_cap` wraps a whole function: no read of the body, ours or the framework's,
goes past the function's cap, even for a chunked body that announces no size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import flask
from werkzeug.exceptions import RequestEntityTooLarge

from shared.core.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    PermanentError,
    UnsupportedMediaTypeError,
)


def answer_within_cap(
    request: flask.Request,
    cap: int,
    route: Callable[[], flask.Response],
    refuse: Callable[[PermanentError], flask.Response],
) -> flask.Response:
    """`route()`'s answer, reading at most `cap` bytes of the body; over it, `refuse`'s 413.

    Flask's per-request `max_content_length` makes every read of the body (a form, the raw
    bytes, the stream) stop at the cap. functions-framework reads the whole request after a
    response that is not streamed (so the client is not cut off while still sending), which
    would hold a 20 MB chunked body in memory: the rest is read here within the cap, and a
    413 is answered streamed, which the framework leaves unread (gunicorn discards the rest
    as it arrives, holding none of it).
    """
    request.max_content_length = cap
    try:
        response = route()
        if response.status_code != 413:
            request.get_data(cache=True)  # what the framework reads next, within the cap
    except RequestEntityTooLarge:
        response = refuse(PayloadTooLargeError(f"body larger than {cap} bytes"))
    if response.status_code != 413:
        return response
    return flask.Response(
        iter([response.get_data()]), status=response.status_code, headers=response.headers
    )


def check_declared_size(request: flask.Request, limit: int) -> None:
    """413 when the client announces a body larger than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"body larger than {limit} bytes")


def read_json_body(request: flask.Request, limit: int) -> bytes:
    """The raw JSON body (for signatures, then `json_object`), once size and type are right."""
    check_declared_size(request, limit)
    if request.mimetype != "application/json":
        raise UnsupportedMediaTypeError("Content-Type must be application/json")
    return read_bounded(request, limit)


def read_bounded(request: flask.Request, limit: int) -> bytes:
    """The body, read from the stream at most one byte over `limit`."""
    try:
        body = request.stream.read(limit + 1)
    except RequestEntityTooLarge as exc:  # over the function's cap, which is above `limit`
        raise PayloadTooLargeError(f"body larger than {limit} bytes") from exc
    if len(body) > limit:
        raise PayloadTooLargeError(f"body larger than {limit} bytes")
    return body


def json_object(body: bytes) -> dict[str, Any]:
    """The body parsed as a JSON object; 400 naming what is wrong otherwise."""
    try:
        parsed = json.loads(body)
    # JSONDecodeError and UnicodeDecodeError are ValueErrors; so is an integer over
    # sys.get_int_max_str_digits(), and nesting too deep to load is a RecursionError.
    except (ValueError, RecursionError) as exc:
        raise InvalidRequestError(f"malformed JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise InvalidRequestError("body must be a JSON object")
    return parsed
