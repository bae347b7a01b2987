"""One way every HTTP function reads a request body: the declared size first (413 before a
byte is read), then the content type (415), then at most one byte over the limit whatever
Content-Length claimed or when the body is chunked (413), then JSON that must be an object
(400)."""

from __future__ import annotations

import json
from typing import Any

import flask

from shared.core.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
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
    body = request.stream.read(limit + 1)
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
