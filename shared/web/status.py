"""HTTP routing of the status function: runs, conversations, KB drafts, KPIs, agent settings,
the site chat, sign-in. Every route and its JSON shape is in shared/web/openapi/status.yaml.

    GET  /signin, POST /signin            public; a token in, a session cookie out
    POST /signout                         ends the session
    GET  /, /runs                         runs, newest first; ?workflow=&status=&since=&until=
                                          (UTC days) &limit= (1-100) &cursor= (next page)
    GET  /runs/{id}                       one run's tasks and timeline (updates itself while
                                          the run is in progress; the JSON carries an ETag)
    GET  /runs/new, POST /runs/new        a start form per workflow; POST starts a run (act)
    GET  /runs/{id}/report                the report: a page with charts, JSON, or Markdown
    GET  /runs/{id}/artifacts/{name}      report.html, numbers.json, numbers.csv, ...
    GET  /approvals                       decisions waiting, oldest first
    GET  /runs/{id}/approvals/{step}      what approving would do; POST decides it (act)
    POST /runs/{id}/{retry,cancel}        act; retry from the failed step, or cancel
    GET  /conversations                   escalated first, then by latest customer message
    GET  /conversations/{key}             the thread, the ticket's reason, draft and sources
    POST /conversations/{key}/resolve     act; `answer` (and `resolved_by`), form or JSON
    GET  /kb/drafts                       answers waiting for approval (and approved ones)
    POST /kb/drafts/{id}/approve          act; optional `approved_by`
    GET  /support/stats                   per platform and day; ?since=&until= (UTC days)
    GET  /kpis                            business and technical KPIs; ?since=&until=&tab=
    GET  /agents, /agents/{agent}         prompts and policy each agent runs with, history
    POST /agents/{agent}/{prompts,policy} act; saves the edit as a new version
    GET  /audit                           who did what, newest first
    GET  /leads, /campaigns               scored leads; campaigns, spend and return of 7 days
    GET  /chat                            public; the site chat page for visitors
    POST /chat/messages                   public; a visitor's message (JSON, at most 8 KiB)
    GET  /chat/conversations/{id}.json    public; the visitor's thread, polled by the chat page
    GET  /unsubscribe?a=&t=               public; an email's link: asks "unsubscribe?"
    POST /unsubscribe?a=&t=               public; unsubscribes (the button, or a mail client's
                                          one-click POST, RFC 8058)
    GET  /openapi.yaml                    public; this API's OpenAPI 3.1 description
    GET  /healthz                         public; {"ok": true}

Access (shared/web/access.py): GET routes need the read scope, every other method the act
scope, unless a route is declared public; a browser signs in at /signin (session cookie,
anti-forgery token in every form), a program sends `Authorization: Bearer <token>`.

Every GET page is also JSON under /api (same parameters); POSTs answer JSON, or redirect
(303) back to the page when a browser posted an HTML form. Errors are JSON `{"error": ...}`
(an HTML page for a browser): 400 bad parameter or body, 401 no or wrong credential, 403
missing scope or anti-forgery token, 404 unknown page or document, 405 wrong method, 409 state
that forbids the change, 413 body too large, 415 not JSON or a form, 429 chat rate limit, 503
a transient failure (the same request may be resent; the resolve's effect record keeps its answer
single).

Firestore indexes the cloud needs for these pages are listed where the queries are made:
FirestoreStore.find_runs, the status-page section of FirestoreConversations, and
shared/adapters/firestore_status.py.

Each family of routes is a module of its own exporting its `routes` table: signin_pages,
run_pages, run_actions, support_pages, kpi_pages, agent_pages, chat_pages, growth_pages,
unsubscribe_pages;
ROUTES at the end of this module joins them.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources

import flask

from shared.core.errors import (
    ForbiddenError,
    PermanentError,
    RetryableError,
    TooManyRequestsError,
    UnauthorizedError,
)
from shared.security.ratelimit import caller_address, caller_limits
from shared.web import (
    access,
    agent_pages,
    chat_pages,
    growth_pages,
    kpi_pages,
    run_actions,
    run_pages,
    signin_pages,
    start_pages,
    support_pages,
    unsubscribe_pages,
)
from shared.web.bodies import answer_within_cap
from shared.web.pages import error_page, wants_html
from shared.web.responses import error_response as _json_error
from shared.web.responses import json_response
from shared.web.router import PUBLIC, Route, Routes
from shared.wiring.services import services

logger = logging.getLogger(__name__)

# No body the status function reads is larger (a form's anti-forgery check reads up to this).
MAX_REQUEST_BODY_BYTES = access.MAX_CSRF_FORM_BYTES


# --- routing ---------------------------------------------------------------------------


def handle_status_request(request: flask.Request) -> flask.Response:
    """Route one request; permanent errors become 4xx with a message."""
    as_json = _is_api(request)
    return answer_within_cap(
        request,
        MAX_REQUEST_BODY_BYTES,
        lambda: _dispatch(request),
        lambda exc: _rejection(request, as_json, exc),
    )


def _is_api(request: flask.Request) -> bool:
    path = request.path.rstrip("/") or "/"
    return path == "/api" or path.startswith("/api/")


def _dispatch(request: flask.Request) -> flask.Response:
    path = request.path.rstrip("/") or "/"
    as_json = _is_api(request)
    if as_json:
        path = path.removeprefix("/api") or "/"
    method = "GET" if request.method == "HEAD" else request.method
    matches = [(r, m) for r in ROUTES if (m := r.pattern.fullmatch(path))]
    if not matches:
        return error_page(request, as_json, 404, f"no page at {request.path}")
    for found, match in matches:
        if found.method != method:
            continue
        try:
            limits = caller_limits(tuple(sorted(services().settings.http_rate_limits.items())))
            address = caller_address(request.headers.get("X-Forwarded-For"), request.remote_addr)
            limits.check("address", address)
            if found.scope == PUBLIC:
                return found.handler(request, as_json, **match.groupdict())
            caller = access.require_scope(request, found.scope)
            limits.check("principal", caller.name)
            response = found.handler(request, as_json, **match.groupdict())
            if (
                as_json
                and method == "GET"
                and caller.via == "bearer"
                and response.status_code < 400
            ):
                # Programs' reads that answered are audited here (a rejection stores nothing);
                # every change audits itself as an action.
                access.record_action(
                    caller, "api.read", path, details={"status": response.status_code}
                )
            return response
        except UnauthorizedError as exc:
            logger.info("unauthenticated %s %s: %s", request.method, request.path, exc)
            if method == "GET" and wants_html(request, as_json):
                return signin_pages.signin_page(
                    request, 401, error=str(exc), next_path=request.full_path
                )
            return _rejection(request, as_json, exc)
        except ForbiddenError as exc:
            principal = access.current_principal(request)
            if principal is not None:
                access.record_action(
                    principal,
                    f"{method} {path}",
                    path,
                    outcome="denied",
                    details={"reason": str(exc)},
                )
            return _rejection(request, as_json, exc)
        except PermanentError as exc:
            logger.info("rejected %s %s: %s", request.method, request.path, exc)
            return _rejection(request, as_json, exc)
        except RetryableError as exc:
            # A vendor or store hiccup: nothing was marked done, so the same request
            # may simply be sent again.
            logger.warning("%s %s failed, may be retried: %s", method, request.path, exc)
            return json_response(
                {"error": f"temporarily unavailable, try again: {exc}"},
                503,
                {"Retry-After": "30"},
            )
    allowed = sorted({found.method for found, _ in matches})
    return json_response(
        {"error": f"{request.method} is not allowed at {request.path}; use {', '.join(allowed)}"},
        405,
        {"Allow": ", ".join(allowed)},
    )


def error_response(exc: PermanentError) -> flask.Response:
    """The JSON 4xx of a permanent error (with Retry-After for a rate limit)."""
    response = _json_error(exc)
    if isinstance(exc, TooManyRequestsError):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _rejection(request: flask.Request, as_json: bool, exc: PermanentError) -> flask.Response:
    if wants_html(request, as_json):
        return error_page(request, as_json, exc.http_status, str(exc))
    return error_response(exc)


# --- API description -------------------------------------------------------------------

openapi_routes = Routes()


@cache
def openapi_document(name: str = "status") -> str:
    """The OpenAPI 3.1 file of the status (or webhooks) API."""
    return resources.files("shared.web").joinpath("openapi", f"{name}.yaml").read_text("utf-8")


@openapi_routes.route("GET", r"/openapi\.yaml", scope=PUBLIC)
def _openapi(request: flask.Request, as_json: bool) -> flask.Response:
    return flask.Response(openapi_document(), mimetype="application/yaml")


# Every route of the status function, in the order the dispatcher tries them: the first
# whose pattern and method match answers.
ROUTES: tuple[Route, ...] = (
    *growth_pages.routes,
    *run_actions.routes,
    *signin_pages.routes,
    *start_pages.routes,  # before run_pages: /runs/new is not a run's page
    *run_pages.routes,
    *support_pages.routes,
    *kpi_pages.routes,
    *agent_pages.routes,
    *chat_pages.routes,
    *unsubscribe_pages.routes,
    *openapi_routes,
)
