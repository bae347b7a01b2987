"""CORS for the browser-facing routes of the webhooks function (the tracking API).

A page on another origin calls /v1/* with an Authorization header and a JSON body, so the
browser first asks with a preflight OPTIONS request; the answer names the allowed origin,
methods and headers, and is cached by the browser for `MAX_AGE_S`. Every real answer to an
allowed origin carries Access-Control-Allow-Origin (rejections too, so the page can read why).
No cookies are involved: the key travels in the header, so credentials are never allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

import flask

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Retry-After"
MAX_AGE_S = 600


def allowed_origin(request: flask.Request, allowed: Sequence[str]) -> str | None:
    """The value of Access-Control-Allow-Origin for this request, or None (not allowed)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def preflight_response(request: flask.Request, allowed: Sequence[str]) -> flask.Response:
    """The answer to an OPTIONS preflight: 204 with the grants, or 403 naming the origin."""
    origin = allowed_origin(request, allowed)
    if origin is None:
        response = flask.jsonify(
            {"error": f"origin {request.headers.get('Origin')!r} may not call this API"}
        )
        response.status_code = 403
        return response
    response = flask.Response(status=204)
    response.headers.update(
        {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": str(MAX_AGE_S),
            "Vary": "Origin",
        }
    )
    return response


def with_cors(
    response: flask.Response, request: flask.Request, allowed: Sequence[str]
) -> flask.Response:
    """The response, readable by the calling page when its origin is allowed."""
    origin = allowed_origin(request, allowed)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers["Vary"] = "Origin"
    return response
