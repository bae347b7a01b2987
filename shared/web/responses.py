"""JSON responses and error mapping shared by the HTTP functions."""

from __future__ import annotations

import json
from typing import Any

import flask

from shared.core.errors import PermanentError


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> flask.Response:
    """A JSON response with the given status."""
    return flask.Response(
        json.dumps(body, default=str, indent=None),
        status=status,
        mimetype="application/json",
        headers=headers or {},
    )


def error_response(exc: PermanentError) -> flask.Response:
    """The 4xx a permanent error maps to, with a message saying what is wrong."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else {}
    return json_response({"error": str(exc)}, exc.http_status, headers)
