"""Status page routes of the agents' settings (prompts and policy, each edit a new version)
and of the audit trail.

    GET  /agents                            each agent and the versions it runs with
    GET  /agents/{agent}                    its prompts and policy, and their history
    POST /agents/{agent}/{prompts,policy}   act; saves the edit as a new version
    GET  /audit                             who did what, newest first
"""

from __future__ import annotations

from typing import cast

import flask

from shared.app.edit_agent_settings import (
    KINDS,
    Kind,
    agent_summaries,
    require_agent,
    save_new_version,
    settings_view,
)
from shared.core.models import utcnow
from shared.web import access
from shared.web.pages import action_response, body_fields, render_html
from shared.web.responses import json_response
from shared.web.router import Routes
from shared.wiring.services import services, status_records

MAX_SETTINGS_FORM_BYTES = 256 * 1024
AUDIT_SHOWN = 100

routes = Routes()


# --- agent settings --------------------------------------------------------------------


@routes.route("GET", r"/agents")
def _agents_page(request: flask.Request, as_json: bool) -> flask.Response:
    rows = agent_summaries(services().store)
    if as_json:
        return json_response({"agents": rows})
    return render_html("agents.html", agents=rows)


@routes.route("GET", r"/agents/(?P<agent>[a-z][a-z0-9_]*)")
def _agent_page(request: flask.Request, as_json: bool, agent: str) -> flask.Response:
    view = settings_view(agent, overrides=services().store, versions=status_records())
    if as_json:
        return json_response(view.as_json())
    return render_html("agent.html", view=view, kinds=KINDS)


@routes.route("POST", r"/agents/(?P<agent>[a-z][a-z0-9_]*)/(?P<kind>prompts|policy)")
def _agent_edit(request: flask.Request, as_json: bool, agent: str, kind: str) -> flask.Response:
    principal = access.require_principal(request)
    require_agent(agent)
    fields = body_fields(request, MAX_SETTINGS_FORM_BYTES)
    version = save_new_version(
        agent,
        cast(Kind, kind),
        fields,
        overrides=services().store,
        versions=status_records(),
        who=principal.name,
        clock=utcnow,
    )
    label = f"{agent}/v{version.version} (override)"
    access.record_action(
        principal,
        f"agent_settings.{kind}",
        agent,
        details={"version": version.version, "comment": version.comment},
    )
    body = {"agent": agent, "kind": kind, "version": version.version, "label": label}
    return action_response(request, as_json, body, f"/agents/{agent}#history")


# --- audit trail -----------------------------------------------------------------------


@routes.route("GET", r"/audit")
def _audit_page(request: flask.Request, as_json: bool) -> flask.Response:
    entries = status_records().recent_audit(AUDIT_SHOWN)
    if as_json:
        return json_response({"audit": [e.model_dump(mode="json") for e in entries]})
    return render_html("audit.html", entries=entries)
