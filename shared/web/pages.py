"""What every status-page handler answers with: HTML from templates/ with the security
headers and script nonce, a 303 after a form post, and the request body read as fields."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

import flask
import jinja2
from werkzeug.exceptions import RequestEntityTooLarge

from shared.core.errors import (
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from shared.web import access, formats
from shared.web.bodies import check_declared_size, json_object
from shared.web.responses import json_response

FORM_TYPES = access.FORM_TYPES
MAX_FORM_BYTES = 16 * 1024  # a page's small form: a token, an answer, an approver's name


_NONCE_KEY = "controlroom.csp_nonce"


# No script runs unless the page gave it this response's nonce; nothing may frame the page.
CSP = (
    "default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@cache
def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("shared.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    # Figures as a reader writes them: {{ cents | money(currency) }}, {{ share | percent }}.
    environment.filters.update(
        money=formats.money, percent=formats.percent, multiple=formats.multiple
    )
    return environment


def _csp_nonce() -> str:
    if not flask.has_request_context():
        return secrets.token_urlsafe(16)
    environ = flask.request.environ
    if _NONCE_KEY not in environ:
        environ[_NONCE_KEY] = secrets.token_urlsafe(16)
    return str(environ[_NONCE_KEY])


def render_html(template: str, status: int = 200, **context: Any) -> flask.Response:
    """A page rendered from templates/, with the signed-in principal, its anti-forgery token
    and the script nonce available to the template, and the security headers set."""
    principal = access.current_principal(flask.request) if flask.has_request_context() else None
    nonce = _csp_nonce()
    defaults: dict[str, Any] = {
        "principal": principal,
        "can_act": bool(principal and principal.can("act")),
        "csrf_token": access.csrf_token(principal),
        "open_mode": access.open_mode(),
    }
    body = _templates().get_template(template).render({**defaults, **context, "csp_nonce": nonce})
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": CSP.format(nonce=nonce)}
    headers["Cache-Control"] = "no-store"
    return flask.Response(body, status=status, mimetype="text/html", headers=headers)


def error_page(request: flask.Request, as_json: bool, status: int, message: str) -> flask.Response:
    """An error: the error page for a browser, else JSON `{"error": message}`."""
    if wants_html(request, as_json):
        return render_html("error.html", status=status, status_code=status, message=message)
    return json_response({"error": message}, status)


def wants_html(request: flask.Request, as_json: bool = False) -> bool:
    """Whether the client is a browser that prefers HTML (its Accept header says so) and did
    not ask for /api; programs without an Accept header get JSON."""
    if as_json:
        return False
    accept = request.accept_mimetypes
    return accept["text/html"] > accept["application/json"]


def action_response(
    request: flask.Request, as_json: bool, body: dict[str, Any], location: str
) -> flask.Response:
    """The answer to a successful POST: back to `location` (303) for a browser's form, else
    the JSON body."""
    if wants_html(request, as_json) and request.mimetype in FORM_TYPES:
        return see_other(location)
    return json_response(body)


def see_other(location: str) -> flask.Response:
    """A 303 to `location` (after a form post: the browser GETs the page again)."""
    return flask.Response(status=303, headers={"Location": location})


def body_fields(request: flask.Request, limit: int, forms: bool = True) -> dict[str, object]:
    """The body as fields: a JSON object, or (when `forms`) form fields; empty is {}.

    The anti-forgery field is dropped: require_scope checked it already.
    """
    check_declared_size(request, limit)
    # Read whole and cached: the anti-forgery check may have parsed the form already.
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge as exc:  # over the function's cap, which is above `limit`
        raise PayloadTooLargeError(f"body larger than {limit} bytes") from exc
    if len(raw) > limit:
        raise PayloadTooLargeError(f"body larger than {limit} bytes")
    if request.mimetype == "application/json":
        parsed = json_object(raw)
        parsed.pop(access.CSRF_FIELD, None)
        return parsed
    if forms and request.mimetype in FORM_TYPES:
        # A field sent more than once (check boxes of one name) keeps every value, as a list.
        fields: dict[str, object] = {
            name: values if len(values) > 1 else values[0] for name, values in request.form.lists()
        }
        fields.pop(access.CSRF_FIELD, None)
        return fields
    if forms and not raw:
        return {}
    accepted = "application/json" + (" or a form" if forms else "")
    raise UnsupportedMediaTypeError(f"Content-Type must be {accepted}")
