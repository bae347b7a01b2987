"""Status page routes where a person acts on runs: approvals, retry from the failed step, cancel.

    GET  /approvals                              pending decisions, oldest first
    GET  /runs/{run}/approvals/{step}            what approving would do
    POST /runs/{run}/approvals/{step}            decision=approve|reject, comment, and when
                                                 approving: subject, exclude (customer ids)
    POST /runs/{run}/retry                       retry a failed run from its failed step
    POST /runs/{run}/cancel                      cancel a running or waiting run
    POST /runs/{run}/notes                       text: a person's note on the run's timeline

Reading needs the read scope, acting the act scope (with the form's anti-forgery token for a
signed-in person), both checked by the status page's dispatcher; every action is recorded in
the audit log and on the run's timeline.
Form posts answer 303 to the run page; JSON posts answer 202 with what was accepted.
"""

from __future__ import annotations

import hashlib
from typing import Any

import flask
from pydantic import ValidationError

from shared.app.run_commands import DecisionBody, decide_approval, request_command
from shared.core.documents import RunEvent
from shared.core.errors import InvalidRequestError, NotFoundError, UnauthorizedError
from shared.core.models import ApprovalStatus, utcnow
from shared.security.tokens import Principal
from shared.web.access import current_principal, record_action
from shared.web.pages import FORM_TYPES, body_fields, render_html, see_other, wants_html
from shared.web.responses import json_response
from shared.web.router import Routes
from shared.wiring.services import services

MAX_ACTION_BYTES = 64 * 1024
MAX_NOTE_CHARS = 2000

routes = Routes()


def _principal(request: flask.Request) -> Principal:
    """Who acts (the dispatcher checked the act scope and the anti-forgery token)."""
    principal = current_principal(request)
    if principal is None:
        raise UnauthorizedError("sign in at /signin, or send 'Authorization: Bearer <token>'")
    return principal


def _after_action(
    request: flask.Request, as_json: bool, run_id: str, payload: dict[str, Any]
) -> flask.Response:
    if wants_html(request, as_json) and request.mimetype in FORM_TYPES:
        return see_other(f"/runs/{run_id}")
    return json_response(payload, 202)


@routes.route("GET", r"/approvals")
def approvals_page(request: flask.Request, as_json: bool) -> flask.Response:
    """Every pending decision, oldest first."""
    pending = services().store.list_approvals(ApprovalStatus.PENDING)
    if as_json:
        return json_response({"approvals": [a.model_dump(mode="json") for a in pending]})
    return render_html("approvals.html", approvals=pending)


@routes.route("GET", r"/runs/(?P<run_id>[^/]+)/approvals/(?P<step>[A-Za-z0-9_-]+)")
def approval_page(request: flask.Request, as_json: bool, run_id: str, step: str) -> flask.Response:
    """One decision: the proposal, and the form to decide it."""
    approval = services().store.get_approval(run_id, step)
    if approval is None:
        raise NotFoundError(f"run {run_id} has no approval step {step!r}")
    if as_json:
        return json_response(approval.model_dump(mode="json"))
    return render_html("approval.html", approval=approval)


@routes.route("POST", r"/runs/(?P<run_id>[^/]+)/approvals/(?P<step>[A-Za-z0-9_-]+)")
def decide(request: flask.Request, as_json: bool, run_id: str, step: str) -> flask.Response:
    """Approve (optionally with edits) or reject; who and when go on the run's timeline."""
    principal = _principal(request)
    body = _decision_body(body_fields(request, MAX_ACTION_BYTES))
    svc = services()
    decided = decide_approval(
        run_id, step, body, by=principal.name, store=svc.store, bus=svc.bus, clock=utcnow
    )
    record_action(
        principal,
        f"approval.{body.decision}",
        f"runs/{run_id}/approvals/{step}",
        details={"comment": body.comment, "edits": body.edits},
    )
    return _after_action(
        request, as_json, run_id, {"run_id": run_id, "status": decided.status.value}
    )


def _decision_body(fields: dict[str, object]) -> DecisionBody:
    """A JSON body as it is; form fields `subject` and `exclude` become the edits."""
    given = fields.pop("edits", None) or {}
    if not isinstance(given, dict):
        raise InvalidRequestError("edits: must be an object")
    edits: dict[str, object] = dict(given)
    subject = str(fields.pop("subject", "") or "").strip()
    exclude = fields.pop("exclude", None)
    if subject:
        edits["subject"] = subject
    if isinstance(exclude, str):
        exclude = [exclude]
    if isinstance(exclude, list) and all(isinstance(item, str) for item in exclude):
        # Check boxes (one value each) or a typed list separated by spaces or commas.
        exclude = [part for item in exclude for part in item.replace(",", " ").split()]
    if exclude:
        edits["exclude"] = exclude
    budgets = _form_budgets(fields)
    if budgets:
        given_budgets = edits.get("budgets")
        earlier = given_budgets if isinstance(given_budgets, dict) else {}
        edits["budgets"] = {**earlier, **budgets}
    # The shapes the win-back's send step reads (a text, a set of customer ids).
    if not isinstance(edits.get("subject", ""), str):
        raise InvalidRequestError("edits.subject: must be text")
    excluded = edits.get("exclude", [])
    if not isinstance(excluded, list) or not all(isinstance(c, str) for c in excluded):
        raise InvalidRequestError("edits.exclude: must be a list of customer ids")
    try:
        return DecisionBody.model_validate({**fields, "edits": edits})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidRequestError(f"{where}: {first['msg']}") from None


BUDGET_FIELD = "budget."
MAX_DAILY_BUDGET = 1_000_000  # in currency units: a typo guard, not a policy


def _form_budgets(fields: dict[str, object]) -> dict[str, int]:
    """Form fields `budget.<campaign key>` (a daily amount in currency units, e.g. "25" or
    "25.50"; empty keeps the proposed one) as cents per campaign key."""
    budgets: dict[str, int] = {}
    for name in [n for n in fields if n.startswith(BUDGET_FIELD)]:
        raw = str(fields.pop(name) or "").strip().replace(",", "")
        if not raw:
            continue
        key = name.removeprefix(BUDGET_FIELD)
        try:
            amount = float(raw)
        except ValueError:
            raise InvalidRequestError(f"{name}: {raw!r} is not an amount") from None
        if not 0 < amount <= MAX_DAILY_BUDGET:
            raise InvalidRequestError(f"{name}: must be above 0 and at most {MAX_DAILY_BUDGET}")
        budgets[key] = round(amount * 100)
    return budgets


def _command(request: flask.Request, as_json: bool, run_id: str, command: str) -> flask.Response:
    principal = _principal(request)
    fields = body_fields(request, MAX_ACTION_BYTES)
    reason = str(fields.get("reason") or "")[:2000]
    svc = services()
    accepted = request_command(
        run_id,
        command,  # type: ignore[arg-type]
        by=principal.name,
        reason=reason,
        store=svc.store,
        bus=svc.bus,
    )
    record_action(principal, f"run.{command}", f"runs/{run_id}", details={"reason": reason})
    return _after_action(
        request,
        as_json,
        run_id,
        {"run_id": run_id, "command": command, "attempt": accepted.attempt},
    )


@routes.route("POST", r"/runs/(?P<run_id>[^/]+)/retry")
def retry(request: flask.Request, as_json: bool, run_id: str) -> flask.Response:
    """Retry a failed run from the step that failed, keeping what succeeded."""
    return _command(request, as_json, run_id, "retry")


@routes.route("POST", r"/runs/(?P<run_id>[^/]+)/cancel")
def cancel(request: flask.Request, as_json: bool, run_id: str) -> flask.Response:
    """Cancel a running or waiting run; tasks not yet started do nothing."""
    return _command(request, as_json, run_id, "cancel")


@routes.route("POST", r"/runs/(?P<run_id>[^/]+)/notes")
def add_note(request: flask.Request, as_json: bool, run_id: str) -> flask.Response:
    """A person's note on the run's timeline (`text`, 1-2000 characters), by who wrote it;
    the same note sent twice (a double click) stays one."""
    principal = _principal(request)
    text = str(body_fields(request, MAX_ACTION_BYTES).get("text") or "").strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise InvalidRequestError(f"text: a note is 1 to {MAX_NOTE_CHARS} characters")
    store = services().store
    if store.get_run(run_id) is None:
        raise NotFoundError(f"no run {run_id!r}")
    digest = hashlib.sha256(f"{principal.name}\0{text}".encode()).hexdigest()[:16]
    note = RunEvent(
        event_id=f"note-{digest}",
        run_id=run_id,
        type="note",
        at=utcnow(),
        message=f"{principal.name}: {text}",
        data={"by": principal.name, "text": text},
    )
    added = store.append_event(note)
    record_action(principal, "run.note", f"runs/{run_id}", outcome="done" if added else "unchanged")
    return _after_action(request, as_json, run_id, {"run_id": run_id, "added": added})
