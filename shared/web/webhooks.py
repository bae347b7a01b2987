"""HTTP routing of the webhooks function.

POST /runs                     start a workflow run (bearer token, optional idempotency key)
POST /webhooks/<platform>      a platform webhook: tiktok, linkedin, zendesk, stripe, generic
GET  /webhooks/linkedin        LinkedIn's challenge handshake (?challengeCode=...)
/v1/track, /v1/identify, /v1/batch, /v1/recommendations/<user>   the tracking API
                               (shared/web/tracking.py), with CORS for browsers
GET  /v1/controlroom.js        the browser snippet (shared/web/static/controlroom.js)

Every rejection is a 4xx whose message says what is wrong, and nothing was stored or
published: size and type are checked first, then the signature, then the payload.
"""

from __future__ import annotations

import logging
from importlib import resources

import flask
from pydantic import ValidationError

from shared.app.ingest_webhook import ingest_stripe_webhook, ingest_support_webhook
from shared.core.envelope import describe_validation_error
from shared.core.errors import (
    InvalidRequestError,
    PermanentError,
    TooManyRequestsError,
)
from shared.core.models import utcnow
from shared.security.ratelimit import CallerLimits, caller_address, caller_limits
from shared.security.signatures import linkedin_challenge_response, verify_webhook
from shared.security.tokens import API_TOKEN_NAME, Principal, require_bearer
from shared.web.bodies import answer_within_cap, json_object, read_json_body
from shared.web.cors import preflight_response, with_cors
from shared.web.responses import error_response, json_response
from shared.wiring.services import conversations, services

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# No body the webhooks function reads is larger (a tracking batch is the largest).
MAX_REQUEST_BODY_BYTES = 512 * 1024
PLATFORMS = ("tiktok", "linkedin", "zendesk", "stripe", "generic")
SNIPPET_PATH = "/v1/controlroom.js"


def handle_webhook_request(request: flask.Request) -> flask.Response:
    """Route one request to its handler and map permanent errors to 4xx."""
    return answer_within_cap(
        request, MAX_REQUEST_BODY_BYTES, lambda: _answer(request), error_response
    )


def _answer(request: flask.Request) -> flask.Response:
    path = request.path.rstrip("/")
    if path.startswith("/v1/") and path != "/v1/runs":
        # The tracking API is called from browsers on other sites (the snippet): CORS.
        origins = services().settings.tracking_allowed_origins
        if request.method == "OPTIONS":
            return preflight_response(request, origins)
        return with_cors(_route(request, path), request, origins)
    return _route(request, path)


def _route(request: flask.Request, path: str) -> flask.Response:
    try:
        _limits().check(
            "address", caller_address(request.headers.get("X-Forwarded-For"), request.remote_addr)
        )
        if path in ("/runs", "/v1/runs") and request.method == "POST":
            return _start_run(request)
        if path == SNIPPET_PATH and request.method == "GET":
            return _snippet()
        if path.startswith("/v1/") and path != "/v1/runs":
            from shared.web.tracking import handle_tracking_request

            return handle_tracking_request(request, path)
        if path.startswith("/webhooks/"):
            return _platform_webhook(request, path.removeprefix("/webhooks/"))
        if path == "/healthz":
            return json_response({"ok": True})
        return json_response({"error": f"no route for {request.method} {request.path}"}, 404)
    except PermanentError as exc:
        logger.info("rejected %s %s: %s", request.method, request.path, exc)
        response = error_response(exc)
        if isinstance(exc, TooManyRequestsError):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response


def _limits() -> CallerLimits:
    return caller_limits(tuple(sorted(services().settings.http_rate_limits.items())))


def _snippet() -> flask.Response:
    """The browser snippet (shared/web/static/controlroom.js), cacheable for five minutes."""
    script = resources.files("shared.web").joinpath("static/controlroom.js").read_bytes()
    response = flask.Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _start_run(request: flask.Request) -> flask.Response:
    # The workflows' declarations (60 ms of imports) are loaded by the first run request, not
    # by every webhook's cold start.
    from shared.app.request_run import StartRunBody, request_run

    svc = services()
    require_bearer(request.headers.get("Authorization"), svc.settings.api_token)
    _limits().check("principal", "run API token")
    body = json_object(read_json_body(request, MAX_BODY_BYTES))
    header_key = request.headers.get("Idempotency-Key")
    if header_key and "idempotency_key" not in body:
        body["idempotency_key"] = header_key
    try:
        start = StartRunBody.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequestError(describe_validation_error(exc)) from exc
    accepted = request_run(start, requested_by="api", store=svc.store, bus=svc.bus, clock=utcnow)
    from shared.web.access import record_action

    record_action(
        Principal(name=API_TOKEN_NAME, scopes=frozenset({"act"}), via="bearer"),
        "run.request",
        f"runs/{accepted.run_id}",
        outcome="unchanged" if accepted.duplicate else "done",
        details={"workflow": start.workflow},
    )
    status_url = f"{svc.settings.status_url.rstrip('/')}/runs/{accepted.run_id}"
    return json_response(
        {"run_id": accepted.run_id, "duplicate": accepted.duplicate, "status_url": status_url},
        200 if accepted.duplicate else 202,
    )


def _platform_webhook(request: flask.Request, platform: str) -> flask.Response:
    if platform not in PLATFORMS:
        return json_response({"error": f"unknown platform {platform!r}"}, 404)
    svc = services()
    secrets = {name: s.get_secret_value() for name, s in svc.settings.webhook_secrets.items()}
    if request.method == "GET" and platform == "linkedin":
        code = request.args.get("challengeCode")
        if not code:
            raise InvalidRequestError("missing challengeCode query parameter")
        if "linkedin" not in secrets:
            raise InvalidRequestError("no webhook secret is configured for linkedin")
        return json_response(linkedin_challenge_response(code, secrets["linkedin"]))
    if request.method != "POST":
        return json_response({"error": f"{request.method} is not allowed here; use POST"}, 405)
    body = read_json_body(request, MAX_BODY_BYTES)
    verify_webhook(platform, dict(request.headers), body, secrets, utcnow())
    payload = json_object(body)
    if platform == "stripe":
        outcome = ingest_stripe_webhook(payload, store=svc.store, bus=svc.bus, clock=utcnow)
    else:
        outcome = ingest_support_webhook(
            platform, payload, conversations=conversations(), bus=svc.bus, clock=utcnow
        )
    return json_response({"accepted": outcome.accepted, "duplicates": outcome.duplicates})
