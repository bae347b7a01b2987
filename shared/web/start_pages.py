"""Status page routes that start runs: a form per workflow, drawn from its params model.

    GET  /runs/new     one form per workflow: each parameter with its meaning, its default
                       (left empty, the agents' policy decides) and its allowed range
    POST /runs/new     act; `workflow` and `param.<name>` fields (or JSON {"workflow",
                       "params"}): the run starts through the same use case and the same
                       params check as POST /runs on the webhooks function, so a refused
                       value is a 400 naming the field and nothing is published; a browser
                       then follows the run on its page

A list is typed with commas ("google_ads, meta"), a mapping as "name=value" pairs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import flask

from shared.app.request_run import StartRunBody, request_run
from shared.core.errors import InvalidRequestError
from shared.core.models import utcnow
from shared.core.ports import Store
from shared.web.access import record_action, require_principal
from shared.web.pages import (
    MAX_FORM_BYTES,
    action_response,
    body_fields,
    render_html,
    wants_html,
)
from shared.web.responses import json_response
from shared.web.router import Routes
from shared.wiring.services import services
from shared.workflows.registry import WORKFLOWS

routes = Routes()
PARAM_FIELD = "param."
CREATED_WITHIN_S = 15.0


def _created(store: Store, run_id: str, within_s: float = CREATED_WITHIN_S) -> bool:
    """Whether the run exists within `within_s` (the supervisor takes well under a second)."""
    deadline = time.monotonic() + within_s
    delay = 0.05
    while True:
        if store.get_run(run_id) is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


@dataclass(frozen=True)
class ParamField:
    """One input of a start form."""

    name: str
    label: str
    kind: str  # "number", "integer", "text", "list", "mapping", "choice", "date"
    help: str
    default: str
    allowed: str
    choices: tuple[str, ...] = ()


def _label(name: str) -> str:
    text = name.replace("_", " ")
    for unit, word in ((" cents", " (cents)"), (" s", " (seconds)")):
        if text.endswith(unit):
            text = text.removesuffix(unit) + word
    return text[:1].upper() + text[1:]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _allowed(schema: dict[str, Any]) -> str:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    low_word = "from" if "minimum" in schema else "above"
    high_word = "to" if "maximum" in schema else "below"
    if low is not None and high is not None:
        return f"{low_word} {low} {high_word} {high}"
    if low is not None:
        return f"{low_word} {low}"
    if high is not None:
        return f"{high_word} {high}"
    return ""


def param_fields(workflow: str) -> list[ParamField]:
    """The inputs of a workflow's start form, from its params model's JSON schema."""
    schema = WORKFLOWS[workflow].params_model.model_json_schema()
    fields = []
    for name, spec in schema.get("properties", {}).items():
        options = [s for s in spec.get("anyOf", [spec]) if s.get("type") != "null"]
        one = options[0] if options else spec
        kind = {"array": "list", "object": "mapping", "integer": "integer", "number": "number"}
        shape = kind.get(one.get("type", ""), "text")
        if one.get("format") == "date":
            shape = "date"
        choices: tuple[str, ...] = ()
        if "enum" in one:
            shape, choices = "choice", tuple(str(c) for c in one["enum"])
        elif shape == "list" and "enum" in one.get("items", {}):
            choices = tuple(str(c) for c in one["items"]["enum"])
        fields.append(
            ParamField(
                name=name,
                label=_label(name),
                kind=shape,
                help=str(spec.get("description") or ""),
                default=_shown(spec.get("default")),
                allowed=_allowed(one) or (f"any of {', '.join(choices)}" if choices else ""),
                choices=choices,
            )
        )
    return fields


def _typed(field: ParamField, raw: str) -> Any:
    """A form value as the params model reads it (the model then checks it)."""
    if field.kind == "list":
        return [part.strip() for part in raw.split(",") if part.strip()]
    if field.kind == "mapping":
        pairs: dict[str, str] = {}
        for part in (p.strip() for p in raw.split(",") if p.strip()):
            key, sep, value = part.partition("=")
            if not sep:
                raise InvalidRequestError(f"params.{field.name}: write name=value pairs")
            pairs[key.strip()] = value.strip()
        return pairs
    return raw


def params_from_form(workflow: str, fields: dict[str, object]) -> dict[str, Any]:
    """The `param.<name>` fields that were filled in, typed for the params model."""
    known = {f.name: f for f in param_fields(workflow)}
    params: dict[str, Any] = {}
    for key, value in fields.items():
        if not key.startswith(PARAM_FIELD):
            continue
        name = key.removeprefix(PARAM_FIELD)
        raw = str(value or "").strip()
        if not raw:
            continue  # left empty: the agents' policy decides
        if name not in known:
            raise InvalidRequestError(f"params.{name}: {workflow} takes no such parameter")
        params[name] = _typed(known[name], raw)
    return params


@routes.route("GET", r"/runs/new")
def start_page(request: flask.Request, as_json: bool) -> flask.Response:
    """Every workflow with its parameters."""
    workflows = sorted(WORKFLOWS.values(), key=lambda w: w.title)
    if as_json:
        return json_response(
            {
                "workflows": [
                    {
                        "name": w.name,
                        "title": w.title,
                        "params_schema": w.params_model.model_json_schema(),
                    }
                    for w in workflows
                ]
            }
        )
    forms = [{"workflow": w, "fields": param_fields(w.name)} for w in workflows]
    chosen = str(request.args.get("workflow") or "")
    return render_html("start.html", forms=forms, chosen=chosen)


@routes.route("POST", r"/runs/new")
def start(request: flask.Request, as_json: bool) -> flask.Response:
    """Start a run of the chosen workflow with the filled-in parameters."""
    principal = require_principal(request)
    fields = body_fields(request, MAX_FORM_BYTES)
    workflow = str(fields.get("workflow") or "")
    if workflow not in WORKFLOWS:
        raise InvalidRequestError(
            f"workflow: must be one of {', '.join(sorted(WORKFLOWS))}, not {workflow!r}"
        )
    given = fields.get("params")
    if given is not None and not isinstance(given, dict):
        raise InvalidRequestError("params: must be an object")
    params = dict(given or {}) if given is not None else params_from_form(workflow, fields)
    body = StartRunBody(workflow=workflow, params=params)
    svc = services()
    accepted = request_run(
        body, requested_by=principal.name, store=svc.store, bus=svc.bus, clock=utcnow
    )
    record_action(
        principal,
        "run.request",
        f"runs/{accepted.run_id}",
        details={"workflow": workflow, "params": sorted(params)},
    )
    # The supervisor creates the run from the request a moment later; a browser is sent to
    # the run's page once it exists (else to the list of that workflow's runs).
    location = f"/runs/{accepted.run_id}"
    if wants_html(request, as_json) and not _created(svc.store, accepted.run_id):
        location = f"/runs?workflow={workflow}"
    response = action_response(request, as_json, {"run_id": accepted.run_id}, location)
    if response.status_code == 200:
        response.status_code = 202
    return response
