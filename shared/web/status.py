"""HTTP routing of the status function: runs, support conversations, KB drafts, the site chat.

    GET  /, /runs                         runs, newest first; ?workflow=&status=&since=&until=
                                          (UTC days) &limit= (1-100) &cursor= (next page)
    GET  /runs/{id}                       one run's tasks and timeline (refreshes while running)
    GET  /runs/{id}/report                the run's Markdown report
    GET  /runs/{id}/artifacts/{name}      report.html, numbers.json, numbers.csv
    GET  /conversations                   escalated first, then by latest customer message
    GET  /conversations/{key}             the thread, the ticket's reason, draft and sources
    POST /conversations/{key}/resolve     bearer; `answer` (and `resolved_by`), form or JSON
    GET  /kb/drafts                       answers waiting for approval (and approved ones)
    POST /kb/drafts/{id}/approve          bearer; optional `approved_by`
    GET  /support/stats                   per platform and day; ?since=&until= (UTC days)
    GET  /chat                            the site chat page for visitors
    POST /chat/messages                   a visitor's message (JSON, at most 8 KiB)
    GET  /chat/conversations/{id}.json    the visitor's thread, polled by the chat page

Every GET page is also JSON under /api (same parameters); POSTs answer JSON. Errors are JSON
`{"error": ...}`: 400 bad parameter or body, 401 missing or wrong token, 404 unknown page or
document, 405 wrong method, 409 state that forbids the change, 413 body too large, 415 not
JSON or a form, 429 chat rate limit, 503 a transient failure (the same request may be resent;
the outbox keeps a resolve's answer single).

Firestore indexes the cloud needs for these pages are listed where the queries are made:
FirestoreStore.find_runs and the status-page section of FirestoreConversations.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import flask
import jinja2

from shared.app.report import REPORT_ARTIFACT
from shared.app.resolve_conversation import (
    ApproveRequest,
    ResolveRequest,
    approve_kb_draft,
    parse_body,
    resolve_conversation,
)
from shared.app.status_views import (
    MAX_CHAT_BODY_BYTES,
    ChatPost,
    RunCursor,
    RunsParams,
    StatsParams,
    chat_conversation_key,
    chat_view,
    post_chat_message,
    require_chat_id,
    stats_window,
    support_stats,
)
from shared.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    PermanentError,
    RetryableError,
    TooManyRequestsError,
    UnsupportedMediaTypeError,
)
from shared.models import RunStatus, utcnow
from shared.security.tokens import require_bearer
from shared.web.responses import error_response, json_response
from shared.wiring import conversations, knowledge_base, reply_sender, services
from shared.workflows.registry import WORKFLOWS

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 16 * 1024
CONVERSATIONS_PER_GROUP = 50
DRAFTS_SHOWN = 100
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shared.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )


def _html(template: str, **context: Any) -> flask.Response:
    body = _templates().get_template(template).render(**context)
    return flask.Response(body, mimetype="text/html")


# --- routing ---------------------------------------------------------------------------

Handler = Callable[..., flask.Response]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


_ROUTES: list[_Route] = []


def _route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _ROUTES.append(_Route(method, re.compile(pattern), handler))
        return handler

    return register


def handle_status_request(request: flask.Request) -> flask.Response:
    """Route one request; permanent errors become 4xx with a message."""
    path = request.path.rstrip("/") or "/"
    as_json = path == "/api" or path.startswith("/api/")
    if as_json:
        path = path.removeprefix("/api") or "/"
    method = "GET" if request.method == "HEAD" else request.method
    matches = [(r, m) for r in _ROUTES if (m := r.pattern.fullmatch(path))]
    if not matches:
        return json_response({"error": f"no page at {request.path}"}, 404)
    for route, match in matches:
        if route.method == method:
            try:
                return route.handler(request, as_json, **match.groupdict())
            except PermanentError as exc:
                logger.info("rejected %s %s: %s", request.method, request.path, exc)
                return _error(exc)
            except RetryableError as exc:
                # A vendor or store hiccup: nothing was marked done, so the same request
                # may simply be sent again.
                logger.warning("%s %s failed, may be retried: %s", method, request.path, exc)
                return json_response(
                    {"error": f"temporarily unavailable, try again: {exc}"},
                    503,
                    {"Retry-After": "30"},
                )
    allowed = sorted({route.method for route, _ in matches})
    return json_response(
        {"error": f"{request.method} is not allowed at {request.path}; use {', '.join(allowed)}"},
        405,
        {"Allow": ", ".join(allowed)},
    )


def _error(exc: PermanentError) -> flask.Response:
    response = error_response(exc)
    if isinstance(exc, TooManyRequestsError):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _body_fields(request: flask.Request, limit: int, forms: bool = True) -> dict[str, object]:
    """The body as fields: a JSON object, or (when `forms`) form fields; empty is {}."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"body larger than {limit} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLargeError(f"body larger than {limit} bytes")
    if request.mimetype == "application/json":
        try:
            parsed = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidRequestError(f"malformed JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise InvalidRequestError("body must be a JSON object")
        return parsed
    if forms and request.mimetype in FORM_TYPES:
        return dict(request.form.items())
    if forms and not raw:
        return {}
    accepted = "application/json" + (" or a form" if forms else "")
    raise UnsupportedMediaTypeError(f"Content-Type must be {accepted}")


def _require_token(request: flask.Request) -> None:
    require_bearer(request.headers.get("Authorization"), services().settings.api_token)


@_route("GET", r"/healthz")
def _healthz(request: flask.Request, as_json: bool) -> flask.Response:
    return json_response({"ok": True})


# --- runs ------------------------------------------------------------------------------


@_route("GET", r"/(?:runs)?")
def _runs_page(request: flask.Request, as_json: bool) -> flask.Response:
    params = RunsParams.parse(request.args)
    after = params.after
    found = services().store.find_runs(
        workflow=params.workflow,
        status=params.status.value if params.status else None,
        created_from=params.created_from,
        created_before=params.created_before,
        after=(after.created_at, after.run_id) if after else None,
        limit=params.limit + 1,
    )
    runs = found[: params.limit]
    next_cursor = (
        RunCursor(runs[-1].created_at, runs[-1].run_id) if len(found) > params.limit else None
    )
    if as_json:
        return json_response(
            {
                "runs": [r.model_dump(mode="json") for r in runs],
                "next_cursor": next_cursor.encode() if next_cursor else None,
            }
        )
    return _html(
        "runs.html",
        runs=runs,
        params=params,
        workflows=sorted(WORKFLOWS),
        statuses=[s.value for s in RunStatus],
        next_query=params.query_string(next_cursor) if next_cursor else None,
    )


@_route("GET", r"/runs/(?P<run_id>[^/]+)")
def _run_page(request: flask.Request, as_json: bool, run_id: str) -> flask.Response:
    store = services().store
    run = store.get_run(run_id)
    if run is None:
        return json_response({"error": f"no run {run_id!r}"}, 404)
    tasks = store.list_tasks(run_id)
    events = store.list_events(run_id)
    if as_json:
        return json_response(
            {
                "run": run.model_dump(mode="json"),
                "tasks": [t.model_dump(mode="json", exclude={"lease_owner"}) for t in tasks],
                "events": [e.model_dump(mode="json") for e in events],
            }
        )
    return _html("run.html", run=run, tasks=tasks, events=events)


@_route("GET", r"/runs/(?P<run_id>[^/]+)/report")
def _report(request: flask.Request, as_json: bool, run_id: str) -> flask.Response:
    artifact = services().store.get_artifact(run_id, REPORT_ARTIFACT)
    if artifact is None:
        return json_response({"error": f"run {run_id!r} has no report yet"}, 404)
    return flask.Response(artifact.content, mimetype="text/markdown")


@_route("GET", r"/runs/(?P<run_id>[^/]+)/artifacts/(?P<name>[A-Za-z0-9_.-]+)")
def _artifact(request: flask.Request, as_json: bool, run_id: str, name: str) -> flask.Response:
    artifact = services().store.get_artifact(run_id, name)
    if artifact is None:
        return json_response({"error": f"run {run_id!r} has no artifact {name!r}"}, 404)
    # The HTML report is rendered from Markdown with raw HTML disabled, so it is safe to serve.
    return flask.Response(artifact.content, mimetype=artifact.content_type)


# --- conversations and their resolution ------------------------------------------------


@_route("GET", r"/conversations")
def _conversations_page(request: flask.Request, as_json: bool) -> flask.Response:
    store = conversations()
    # Two queries on one index (status, last_message_at): escalated ones first, then the rest.
    escalated = store.list_conversations(["escalated"], CONVERSATIONS_PER_GROUP)
    others = store.list_conversations(["open", "answered", "resolved"], CONVERSATIONS_PER_GROUP)
    listed = escalated + others
    if as_json:
        return json_response({"conversations": [c.model_dump(mode="json") for c in listed]})
    return _html("conversations.html", escalated=escalated, others=others)


@_route("GET", r"/conversations/(?P<key>[^/]+)")
def _conversation_page(request: flask.Request, as_json: bool, key: str) -> flask.Response:
    store = conversations()
    conversation = store.get_conversation(key)
    if conversation is None:
        return json_response({"error": f"no conversation {key!r}"}, 404)
    messages = store.list_messages(key)
    ticket = store.get_ticket(conversation.ticket_id) if conversation.ticket_id else None
    resolution = store.get_resolution(ticket.ticket_id) if ticket else None
    draft = store.get_kb_draft(ticket.ticket_id) if resolution and ticket else None
    if as_json:
        return json_response(
            {
                "conversation": conversation.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in messages],
                "ticket": ticket.model_dump(mode="json") if ticket else None,
                "resolution": resolution.model_dump(mode="json") if resolution else None,
                "kb_draft": draft.model_dump(mode="json") if draft else None,
            }
        )
    return _html(
        "conversation.html",
        conversation=conversation,
        messages=messages,
        ticket=ticket,
        resolution=resolution,
        draft=draft,
    )


@_route("POST", r"/conversations/(?P<key>[^/]+)/resolve")
def _resolve(request: flask.Request, as_json: bool, key: str) -> flask.Response:
    fields = _body_fields(request, MAX_FORM_BYTES)
    _require_token(request)
    outcome = resolve_conversation(
        key,
        parse_body(ResolveRequest, fields),
        conversations=conversations(),
        replies=reply_sender,
        clock=utcnow,
    )
    return json_response(
        {
            "conversation_key": outcome.conversation_key,
            "ticket_id": outcome.ticket_id,
            "kb_draft_id": outcome.draft_id,
            "resolved": True,
            "already_resolved": not outcome.changed,
        }
    )


# --- knowledge-base drafts -------------------------------------------------------------


@_route("GET", r"/kb/drafts")
def _drafts_page(request: flask.Request, as_json: bool) -> flask.Response:
    drafts = conversations().list_kb_drafts(DRAFTS_SHOWN)
    drafts.sort(key=lambda d: d.status != "draft")  # waiting ones first, each newest first
    if as_json:
        return json_response({"kb_drafts": [d.model_dump(mode="json") for d in drafts]})
    return _html("kb_drafts.html", drafts=drafts)


@_route("POST", r"/kb/drafts/(?P<draft_id>[^/]+)/approve")
def _approve(request: flask.Request, as_json: bool, draft_id: str) -> flask.Response:
    fields = _body_fields(request, MAX_FORM_BYTES)
    _require_token(request)
    knowledge = knowledge_base()
    outcome = approve_kb_draft(
        draft_id,
        parse_body(ApproveRequest, fields),
        conversations=conversations(),
        knowledge=knowledge.store,
        embedder=knowledge.embedder,  # the support agent's, so the article matches the rest
        clock=utcnow,
    )
    return json_response(
        {
            "kb_draft_id": outcome.draft_id,
            "article_id": outcome.article_id,
            "approved": True,
            "already_approved": not outcome.changed,
        }
    )


# --- support statistics ----------------------------------------------------------------


@_route("GET", r"/support/stats")
def _stats_page(request: flask.Request, as_json: bool) -> flask.Response:
    since, until = StatsParams.parse(request.args).window(utcnow().date())
    start, end = stats_window(since, until)
    store = conversations()
    stats = support_stats(
        store.messages_since(start, end), store.escalated_message_ids(start), since, until
    )
    if as_json:
        return json_response(stats.model_dump(mode="json"))
    return _html("stats.html", stats=stats)


# --- site chat -------------------------------------------------------------------------


@_route("GET", r"/chat")
def _chat_page(request: flask.Request, as_json: bool) -> flask.Response:
    return _html("chat.html")


@_route("POST", r"/chat/messages")
def _chat_message(request: flask.Request, as_json: bool) -> flask.Response:
    post = parse_body(ChatPost, _body_fields(request, MAX_CHAT_BODY_BYTES, forms=False))
    outcome = post_chat_message(
        post,
        conversations=conversations(),
        bus=services().bus,
        clock=utcnow,
        new_id=lambda: uuid.uuid4().hex,
    )
    return json_response(
        {"accepted": outcome.accepted, "duplicates": outcome.duplicates},
        202 if outcome.accepted else 200,
    )


@_route("GET", r"/chat/conversations/(?P<conversation_id>[^/]+)\.json")
def _chat_thread(request: flask.Request, as_json: bool, conversation_id: str) -> flask.Response:
    key = chat_conversation_key(require_chat_id(conversation_id))
    store = conversations()
    view = chat_view(conversation_id, store.get_conversation(key), store.list_messages(key))
    return json_response(view.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
