"""Status page routes of customer support: conversations and their resolution, the
knowledge-base drafts a resolution leaves, and support statistics.

    GET  /conversations                  escalated first, then by latest customer message
    GET  /conversations/{key}            the thread, the ticket, its resolution and draft
    POST /conversations/{key}/resolve    act; the answer is sent and a KB draft written
    GET  /kb/drafts                      drafts waiting for approval first
    POST /kb/drafts/{id}/approve         act; the draft becomes a knowledge-base article
    GET  /support/stats                  per platform and day
"""

from __future__ import annotations

from urllib.parse import quote

import flask

from shared.app.resolve_conversation import (
    ApproveRequest,
    ResolveRequest,
    approve_kb_draft,
    parse_body,
    resolve_conversation,
)
from shared.app.status_views import StatsParams, stats_window, support_stats
from shared.core.models import utcnow
from shared.web import access
from shared.web.pages import MAX_FORM_BYTES, action_response, body_fields, error_page, render_html
from shared.web.responses import json_response
from shared.web.router import Routes
from shared.wiring.services import conversations, knowledge_base, reply_sender

CONVERSATIONS_PER_GROUP = 50
DRAFTS_SHOWN = 100

routes = Routes()


# --- conversations and their resolution ------------------------------------------------


@routes.route("GET", r"/conversations")
def _conversations_page(request: flask.Request, as_json: bool) -> flask.Response:
    store = conversations()
    # Two queries on one index (status, last_message_at): escalated ones first, then the rest.
    escalated = store.list_conversations(["escalated"], CONVERSATIONS_PER_GROUP)
    others = store.list_conversations(["open", "answered", "resolved"], CONVERSATIONS_PER_GROUP)
    listed = escalated + others
    if as_json:
        return json_response({"conversations": [c.model_dump(mode="json") for c in listed]})
    return render_html("conversations.html", escalated=escalated, others=others)


@routes.route("GET", r"/conversations/(?P<key>[^/]+)")
def _conversation_page(request: flask.Request, as_json: bool, key: str) -> flask.Response:
    store = conversations()
    conversation = store.get_conversation(key)
    if conversation is None:
        return error_page(request, as_json, 404, f"no conversation {key!r}")
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
    return render_html(
        "conversation.html",
        conversation=conversation,
        messages=messages,
        ticket=ticket,
        resolution=resolution,
        draft=draft,
    )


@routes.route("POST", r"/conversations/(?P<key>[^/]+)/resolve")
def _resolve(request: flask.Request, as_json: bool, key: str) -> flask.Response:
    principal = access.require_principal(request)
    fields = body_fields(request, MAX_FORM_BYTES)
    if not fields.get("resolved_by"):
        fields["resolved_by"] = principal.name
    outcome = resolve_conversation(
        key,
        parse_body(ResolveRequest, fields),
        conversations=conversations(),
        replies=reply_sender,
        clock=utcnow,
    )
    access.record_action(
        principal,
        "conversation.resolve",
        key,
        outcome="done" if outcome.changed else "unchanged",
        details={"ticket_id": outcome.ticket_id, "kb_draft_id": outcome.draft_id},
    )
    body = {
        "conversation_key": outcome.conversation_key,
        "ticket_id": outcome.ticket_id,
        "kb_draft_id": outcome.draft_id,
        "resolved": True,
        "already_resolved": not outcome.changed,
    }
    return action_response(request, as_json, body, f"/conversations/{_quote(key)}")


def _quote(value: str) -> str:
    return quote(value, safe="")


# --- knowledge-base drafts -------------------------------------------------------------


@routes.route("GET", r"/kb/drafts")
def _drafts_page(request: flask.Request, as_json: bool) -> flask.Response:
    drafts = conversations().list_kb_drafts(DRAFTS_SHOWN)
    drafts.sort(key=lambda d: d.status != "draft")  # waiting ones first, each newest first
    if as_json:
        return json_response({"kb_drafts": [d.model_dump(mode="json") for d in drafts]})
    return render_html("kb_drafts.html", drafts=drafts)


@routes.route("POST", r"/kb/drafts/(?P<draft_id>[^/]+)/approve")
def _approve(request: flask.Request, as_json: bool, draft_id: str) -> flask.Response:
    principal = access.require_principal(request)
    fields = body_fields(request, MAX_FORM_BYTES)
    if not fields.get("approved_by"):
        fields["approved_by"] = principal.name
    knowledge = knowledge_base()
    outcome = approve_kb_draft(
        draft_id,
        parse_body(ApproveRequest, fields),
        conversations=conversations(),
        knowledge=knowledge.store,
        embedder=knowledge.embedder,  # the support agent's, so the article matches the rest
        clock=utcnow,
    )
    access.record_action(
        principal,
        "kb_draft.approve",
        draft_id,
        outcome="done" if outcome.changed else "unchanged",
        details={"article_id": outcome.article_id},
    )
    body = {
        "kb_draft_id": outcome.draft_id,
        "article_id": outcome.article_id,
        "approved": True,
        "already_approved": not outcome.changed,
    }
    return action_response(request, as_json, body, f"/kb/drafts#{_quote(draft_id)}")


# --- support statistics ----------------------------------------------------------------


@routes.route("GET", r"/support/stats")
def _stats_page(request: flask.Request, as_json: bool) -> flask.Response:
    since, until = StatsParams.parse(request.args).window(utcnow().date())
    start, end = stats_window(since, until)
    store = conversations()
    stats = support_stats(
        store.messages_since(start, end), store.escalated_message_ids(start), since, until
    )
    if as_json:
        return json_response(stats.model_dump(mode="json"))
    return render_html("stats.html", stats=stats)
