"""Status page routes a customer reaches from a campaign email, both public (the signed link
is the credential):

    GET  /unsubscribe?a={key}&t={token}   asks "unsubscribe?" with one button
    POST /unsubscribe?a={key}&t={token}   unsubscribes: the button, or a mail client's
                                          one-click request (body List-Unsubscribe=One-Click,
                                          RFC 8058); the same answer when repeated

A link that is not ours is a 400 page saying so. Nothing is written for a GET: mail scanners
open every link of an email, and must not unsubscribe anyone.
"""

from __future__ import annotations

import flask

from shared.app.unsubscribe import check_link, unsubscribe
from shared.core.errors import InvalidRequestError
from shared.core.models import utcnow
from shared.email.unsubscribe import ONE_CLICK
from shared.web.pages import render_html
from shared.web.responses import json_response
from shared.web.router import PUBLIC, Routes
from shared.wiring.email import mailing

routes = Routes()


def _link(request: flask.Request) -> tuple[str, str]:
    return request.args.get("a", ""), request.args.get("t", "")


def _invalid(as_json: bool, exc: InvalidRequestError, shop: str) -> flask.Response:
    if as_json:
        return json_response({"error": str(exc)}, 400)
    return render_html("unsubscribe.html", status=400, invalid=True, shop=shop)


@routes.route("GET", r"/unsubscribe", scope=PUBLIC)
def _unsubscribe_page(request: flask.Request, as_json: bool) -> flask.Response:
    mail = mailing()
    key, token = _link(request)
    try:
        check_link(key, token, mail.secret)
    except InvalidRequestError as exc:
        return _invalid(as_json, exc, mail.shop)
    if as_json:
        return json_response({"key": key, "valid": True})
    return render_html("unsubscribe.html", shop=mail.shop, action=request.full_path)


@routes.route("POST", r"/unsubscribe", scope=PUBLIC)
def _unsubscribe(request: flask.Request, as_json: bool) -> flask.Response:
    mail = mailing()
    key, token = _link(request)
    one_click = request.form.get("List-Unsubscribe") == ONE_CLICK.split("=", 1)[1]
    try:
        outcome = unsubscribe(
            key,
            token,
            source="one-click" if one_click else "link",
            secret=mail.secret,
            suppressions=mail.suppressions,
            clock=utcnow,
        )
    except InvalidRequestError as exc:
        return _invalid(as_json or one_click, exc, mail.shop)
    if as_json or one_click:
        return json_response({"unsubscribed": True, "already": outcome.already})
    return render_html("unsubscribe.html", done=True, already=outcome.already, shop=mail.shop)
