"""Status page routes before and around signing in: the health check, the sign-in form and
its post (a token in, a session cookie out), and signing out.

    GET  /healthz                 public; {"ok": true}
    GET  /signin, POST /signin    public
    POST /signout                 read; ends the session
"""

from __future__ import annotations

import contextlib
import logging

import flask

from shared.core.errors import UnauthorizedError
from shared.web import access
from shared.web.pages import MAX_FORM_BYTES, action_response, body_fields, render_html, see_other
from shared.web.responses import json_response
from shared.web.router import PUBLIC, Routes

logger = logging.getLogger(__name__)

routes = Routes()


@routes.route("GET", r"/healthz", scope=PUBLIC)
def _healthz(request: flask.Request, as_json: bool) -> flask.Response:
    return json_response({"ok": True})


# --- sign-in ---------------------------------------------------------------------------


def _safe_next(value: object) -> str:
    """A local path to go to after signing in; anything else (another site) is "/runs"."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/runs"
    if "\\" in value or any(ord(c) < 32 for c in value) or value.startswith("/signin"):
        return "/runs"
    return value.removesuffix("?")


def signin_page(
    request: flask.Request, status: int = 200, *, error: str = "", next_path: object = None
) -> flask.Response:
    """The sign-in form (a 401 asks for a bearer token too), back to `next_path` after."""
    nonce = "" if access.open_mode() else access.new_signin_nonce()
    response = render_html(
        "signin.html",
        status=status,
        error=error,
        next_path=_safe_next(next_path),
        signed_in=access.current_principal(request),
        nonce=nonce,
    )
    if nonce:
        access.set_signin_nonce(response, nonce)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


@routes.route("GET", r"/signin", scope=PUBLIC)
def _signin_form(request: flask.Request, as_json: bool) -> flask.Response:
    # Who is signed in already, if anyone; a wrong bearer header here just shows the form.
    with contextlib.suppress(UnauthorizedError):
        access.authenticate(request)
    return signin_page(request, next_path=request.args.get("next"))


@routes.route("POST", r"/signin", scope=PUBLIC)
def _signin(request: flask.Request, as_json: bool) -> flask.Response:
    fields = body_fields(request, MAX_FORM_BYTES)
    next_path = fields.get("next")
    if access.open_mode():
        raise UnauthorizedError("no tokens are configured on this deployment; reading is open")
    access.check_signin_nonce(request, _text(fields.get(access.SIGNIN_NONCE_FIELD)))
    token = access.check_token(_text(fields.get("token")) or "")
    if token is None:
        logger.warning("failed sign-in from %s", request.remote_addr)
        return signin_page(request, 401, error="That token is not valid.", next_path=next_path)
    response = see_other(_safe_next(next_path))
    principal = access.start_session(response, token)
    access.record_action(principal, "session.signin", principal.name)
    return response


@routes.route("POST", r"/signout", scope="read")
def _signout(request: flask.Request, as_json: bool) -> flask.Response:
    principal = access.require_principal(request)
    response = action_response(request, as_json, {"signed_out": True}, "/signin")
    access.end_session(response)
    if principal.via == "session":
        access.record_action(principal, "session.signout", principal.name)
    return response


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
