"""Status page routes of the site chat, all public: the page visitors chat on, their
messages, and the thread the page polls.

    GET  /chat                              the chat page
    POST /chat/messages                     a visitor's message (JSON, at most 8 KiB)
    GET  /chat/conversations/{id}.json      the visitor's thread
"""

from __future__ import annotations

import uuid

import flask

from shared.app.resolve_conversation import parse_body
from shared.app.status_views import (
    MAX_CHAT_BODY_BYTES,
    ChatPost,
    chat_conversation_key,
    chat_view,
    post_chat_message,
    require_chat_id,
)
from shared.core.models import utcnow
from shared.web.pages import body_fields, render_html
from shared.web.responses import json_response
from shared.web.router import PUBLIC, Routes
from shared.wiring.services import conversations, services

routes = Routes()


@routes.route("GET", r"/chat", scope=PUBLIC)
def _chat_page(request: flask.Request, as_json: bool) -> flask.Response:
    return render_html("chat.html")


@routes.route("POST", r"/chat/messages", scope=PUBLIC)
def _chat_message(request: flask.Request, as_json: bool) -> flask.Response:
    post = parse_body(ChatPost, body_fields(request, MAX_CHAT_BODY_BYTES, forms=False))
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


@routes.route("GET", r"/chat/conversations/(?P<conversation_id>[^/]+)\.json", scope=PUBLIC)
def _chat_thread(request: flask.Request, as_json: bool, conversation_id: str) -> flask.Response:
    key = chat_conversation_key(require_chat_id(conversation_id))
    store = conversations()
    view = chat_view(conversation_id, store.get_conversation(key), store.list_messages(key))
    return json_response(view.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
