"""The /v1 routes of the webhooks function: the tracking API.

POST /v1/track                      one event (user_id or anonymous_id, event, properties)
POST /v1/identify                   who a user is (user_id, traits)
POST /v1/batch                      up to 500 track/identify items, each with its "type"
GET  /v1/recommendations/{user_id}  what to show the user (popularity for now)
POST /v1/content                    copy variants from a brief (product, audience, channel,
                                    tone, variants), grounded in the help centre, with their
                                    sources and cost; counts the content policy's
                                    events_per_request against the key's daily quota

Checks in order, each a 4xx that stores and publishes nothing: declared size (413), the API
key (401), content type (415), actual size (413), JSON and schema (400 naming the field),
the daily quota (429 with Retry-After). Accepted events are published, then answered 202.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.core.envelope import describe_validation_error
from shared.core.errors import (
    InvalidRequestError,
    NotFoundError,
    TooManyRequestsError,
)
from shared.core.models import utcnow
from shared.tracking.ingest import accept_events
from shared.tracking.keys import TrackingKey
from shared.tracking.models import BatchBody, Identifier, IdentifyBody, TrackBody
from shared.tracking.recommendations import recommend
from shared.web.bodies import check_declared_size, json_object, read_json_body
from shared.web.responses import json_response
from shared.wiring.services import services
from shared.wiring.tracking import key_table, quota, recommendations

MAX_ITEM_BYTES = 32 * 1024
MAX_BATCH_BYTES = 512 * 1024
RECOMMENDATIONS_PREFIX = "/v1/recommendations/"
CONTENT_PATH = "/v1/content"
M = TypeVar("M", bound=BaseModel)
USER_ID: TypeAdapter[str] = TypeAdapter(Identifier)
logger = logging.getLogger(__name__)


def handle_tracking_request(request: flask.Request, path: str) -> flask.Response:
    """Serve one /v1 request; PermanentErrors propagate to the caller's 4xx mapping."""
    if path in ("/v1/track", "/v1/identify", "/v1/batch"):
        if request.method != "POST":
            return json_response({"error": f"{request.method} is not allowed; use POST"}, 405)
        limit = MAX_BATCH_BYTES if path == "/v1/batch" else MAX_ITEM_BYTES
        check_declared_size(request, limit)
        key = key_table().authenticate(request.headers.get("Authorization"))
        payload = json_object(read_json_body(request, limit))
        items: list[TrackBody | IdentifyBody]
        if path == "/v1/batch":
            body = _validate(BatchBody, payload)
            # The batch's context applies to every item; an item's own keys win.
            items = [
                i.model_copy(update={"context": {**body.context, **i.context}}) for i in body.batch
            ]
        else:
            model: type[TrackBody | IdentifyBody] = (
                TrackBody if path == "/v1/track" else IdentifyBody
            )
            items = [_validate(model, payload)]
        return _publish(items, key)
    if path == CONTENT_PATH:
        if request.method != "POST":
            return json_response({"error": f"{request.method} is not allowed; use POST"}, 405)
        check_declared_size(request, MAX_ITEM_BYTES)
        key = key_table().authenticate(request.headers.get("Authorization"))
        return _content(key, json_object(read_json_body(request, MAX_ITEM_BYTES)))
    if path.startswith(RECOMMENDATIONS_PREFIX):
        if request.method != "GET":
            return json_response({"error": f"{request.method} is not allowed; use GET"}, 405)
        key_table().authenticate(request.headers.get("Authorization"))
        user_id = _user_id(path.removeprefix(RECOMMENDATIONS_PREFIX))
        limit = _limit(request.args.get("limit"))
        answer = recommend(user_id, limit, source=recommendations())
        return json_response(answer.model_dump(mode="json"))
    raise NotFoundError(f"no route for {request.method} {request.path}")


def _publish(items: list[TrackBody | IdentifyBody], key: TrackingKey) -> flask.Response:
    svc = services()
    accepted = accept_events(items, key, quota=quota(), bus=svc.bus, clock=utcnow)
    return json_response({"accepted": accepted.accepted, "message_ids": accepted.message_ids}, 202)


def _content(key: TrackingKey, payload: dict[str, Any]) -> flask.Response:
    """Write the variants within the key's quota; nothing counted when the writing fails."""
    from shared.content.models import ContentBrief
    from shared.content.write import write_content
    from shared.core.agent_settings import resolve_agent_settings
    from shared.tracking.ingest import seconds_until_next_day
    from shared.wiring.services import knowledge_base, llm

    brief = _validate(ContentBrief, payload)
    svc = services()
    settings = resolve_agent_settings("content", svc.store)
    cost = int(settings.policy.values.get("events_per_request", 100))
    now = utcnow()
    if not quota().reserve(key.source, now.date(), cost, key.daily_quota):
        raise TooManyRequestsError(
            f"the daily quota of {key.daily_quota} events of {key.source!r} ({key.tier} tier) "
            f"leaves no room for a content request ({cost} events) today; it resets at 00:00 UTC",
            retry_after_s=seconds_until_next_day(now),
        )
    try:
        answer = write_content(brief, kb=knowledge_base(), llm=llm, settings=settings)
    except BaseException:
        quota().release(key.source, now.date(), cost)
        raise
    logger.info(
        "content for %s: %d variant(s), %d tokens, $%.4f",
        key.source,
        len(answer.variants),
        answer.usage.tokens_in + answer.usage.tokens_out,
        answer.usage.cost_usd,
    )
    return json_response(answer.model_dump(mode="json"))


def _user_id(raw: str) -> str:
    try:
        return USER_ID.validate_python(raw)
    except ValidationError as exc:
        raise InvalidRequestError(f"user_id: {exc.errors()[0]['msg']}") from exc


def _limit(raw: str | None) -> int:
    if raw is None:
        return 10
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise InvalidRequestError("limit: must be a whole number from 1 to 100")
    return int(raw)


def _validate(model: type[M], payload: dict[str, Any]) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidRequestError(describe_validation_error(exc)) from exc
