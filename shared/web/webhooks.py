"""HTTP routing of the webhooks function: POST /runs starts a workflow run."""

from __future__ import annotations

import logging

import flask
from pydantic import ValidationError

from shared.app.request_run import StartRunBody, request_run
from shared.envelope import describe_validation_error
from shared.errors import InvalidRequestError, PermanentError
from shared.models import utcnow
from shared.security.tokens import require_bearer
from shared.web.responses import error_response, json_response
from shared.wiring import services

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def handle_webhook_request(request: flask.Request) -> flask.Response:
    """Route one request; every rejection is a 4xx that wrote and published nothing."""
    try:
        if request.path.rstrip("/") in ("/runs", "/v1/runs") and request.method == "POST":
            return _start_run(request)
        if request.path == "/healthz":
            return json_response({"ok": True})
        return json_response({"error": f"no route for {request.method} {request.path}"}, 404)
    except PermanentError as exc:
        logger.info("rejected %s %s: %s", request.method, request.path, exc)
        return error_response(exc)


def _start_run(request: flask.Request) -> flask.Response:
    svc = services()
    require_bearer(request.headers.get("Authorization"), svc.settings.api_token)
    body = _json_body(request)
    header_key = request.headers.get("Idempotency-Key")
    if header_key and "idempotency_key" not in body:
        body["idempotency_key"] = header_key
    try:
        start = StartRunBody.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequestError(describe_validation_error(exc)) from exc
    accepted = request_run(start, requested_by="api", store=svc.store, bus=svc.bus, clock=utcnow)
    status_url = f"{svc.settings.status_url.rstrip('/')}/runs/{accepted.run_id}"
    return json_response(
        {"run_id": accepted.run_id, "duplicate": accepted.duplicate, "status_url": status_url},
        200 if accepted.duplicate else 202,
    )


def _json_body(request: flask.Request) -> dict[str, object]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise InvalidRequestError(f"body larger than {MAX_BODY_BYTES} bytes")
    if not request.is_json:
        raise InvalidRequestError("Content-Type must be application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequestError("body must be a JSON object")
    return body
