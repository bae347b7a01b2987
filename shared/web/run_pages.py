"""Status page routes that read runs: the list, one run's page, its report and artifacts.

    GET /, /runs                      runs, newest first, filtered and paged by RunsParams
    GET /runs/{id}                    tasks, timeline and step graph; the JSON has an ETag
    GET /runs/{id}/report             the report: a page (a browser), JSON (/api), Markdown
    GET /runs/{id}/artifacts/{name}   a published artifact (a signed link when it has one)

Acting on a run (approvals, retry, cancel) is in run_actions.py.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import asdict
from typing import Any

import flask

from shared.app.run_steps import run_graph
from shared.app.status_views import RunCursor, RunsParams
from shared.core.errors import ControlroomError
from shared.core.models import LlmUsage, RunStatus, TaskStatus
from shared.web.graph_svg import draw_run_graph
from shared.web.pages import SECURITY_HEADERS, error_page, render_html, wants_html
from shared.web.report_view import build_report_view
from shared.web.responses import json_response
from shared.web.router import Routes
from shared.web.task_labels import task_purpose
from shared.wiring.services import artifact_store, services
from shared.workflows.registry import WORKFLOWS
from shared.workflows.report import REPORT_ARTIFACT

MAX_TASKS_SHOWN = 200
MAX_EVENTS_SHOWN = 500
# Artifacts (the HTML report) are documents produced from LLM prose: no script at all.
ARTIFACT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

routes = Routes()


@routes.route("GET", r"/(?:runs)?", paths=("/", "/runs"))
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
    return render_html(
        "runs.html",
        runs=runs,
        params=params,
        workflows=sorted(WORKFLOWS),
        statuses=[s.value for s in RunStatus],
        next_query=params.query_string(next_cursor) if next_cursor else None,
    )


@routes.route("GET", r"/runs/(?P<run_id>[^/]+)")
def _run_page(request: flask.Request, as_json: bool, run_id: str) -> flask.Response:
    store = services().store
    run = store.get_run(run_id)
    if run is None:
        return error_page(request, as_json, 404, f"no run {run_id!r}")
    all_tasks = store.list_tasks(run_id)
    all_events = store.list_events(run_id)
    workflow = WORKFLOWS.get(run.workflow)
    approval_steps = [s.name for s in workflow.steps if s.kind == "approval"] if workflow else []
    approvals = {
        name: approval
        for name in approval_steps
        if (approval := store.get_approval(run_id, name)) is not None
    }
    graph = run_graph(run, all_tasks, approvals)
    if not run.status.terminal:
        # The run's totals are written when it ends; until then they roll up from its tasks.
        run = run.model_copy(update={"usage": LlmUsage.total([t.usage for t in all_tasks])})
    # A campaign has thousands of tasks and events: show the unfinished and failed tasks
    # first and the latest events; the counts say what is left out.
    tasks = sorted(all_tasks, key=lambda t: t.status is TaskStatus.SUCCEEDED)[:MAX_TASKS_SHOWN]
    events = all_events[-MAX_EVENTS_SHOWN:]
    if as_json:
        body = {
            "run": run.model_dump(mode="json"),
            "tasks": [
                {**t.model_dump(mode="json", exclude={"lease_owner"}), "purpose": task_purpose(t)}
                for t in tasks
            ],
            "events": [e.model_dump(mode="json") for e in events],
            "task_total": len(all_tasks),
            "event_total": len(all_events),
            "steps": [asdict(step) for step in graph.steps] if graph else [],
        }
        return _json_with_etag(request, body)
    live = [status.value for status in RunStatus if not status.terminal]
    artifacts = store.list_artifacts(run_id) if run.status.terminal else []
    return render_html(
        "run.html",
        run=run,
        tasks=tasks,
        events=events,
        task_total=len(all_tasks),
        event_total=len(all_events),
        artifacts=artifacts,
        live_statuses=live,
        graph=graph,
        graph_svg=draw_run_graph(graph) if graph else None,
        purposes={t.task_id: task_purpose(t) for t in tasks},
        workflow_title=workflow.title if workflow else run.workflow,
    )


def _json_with_etag(request: flask.Request, body: dict[str, Any]) -> flask.Response:
    """JSON with a strong ETag, or 304 when the client has it already (the live run page
    polls with If-None-Match, so an unchanged run costs no body)."""
    response = json_response(body, headers={"Cache-Control": "private, no-cache"})
    etag = hashlib.sha256(response.get_data()).hexdigest()[:32]
    response.set_etag(etag)
    if etag in request.if_none_match:
        return flask.Response(
            status=304, headers={"ETag": f'"{etag}"', "Cache-Control": "private, no-cache"}
        )
    return response


@routes.route("GET", r"/runs/(?P<run_id>[^/]+)/report")
def _report(request: flask.Request, as_json: bool, run_id: str) -> flask.Response:
    """The report as a page for a browser (headlines, each agent's prose, charts, tables),
    as JSON under /api, and as its Markdown for any other client (also a download)."""
    store = services().store
    run = store.get_run(run_id)
    artifact = store.get_artifact(run_id, REPORT_ARTIFACT)
    if run is None or artifact is None:
        return error_page(request, as_json, 404, f"run {run_id!r} has no report yet")
    if not as_json and not wants_html(request, as_json):
        return flask.Response(artifact.content, mimetype="text/markdown", headers=SECURITY_HEADERS)
    workflow = WORKFLOWS.get(run.workflow)
    view = build_report_view(
        run, store.list_tasks(run_id), workflow.title if workflow else run.workflow
    )
    if as_json:
        return json_response(
            {
                "run_id": run_id,
                "title": view.title,
                "period": view.period,
                "headlines": [asdict(h) for h in view.headlines],
                "sections": [
                    {"agent": s.agent, "title": s.title, "error": s.error} for s in view.sections
                ],
                "markdown": f"/runs/{run_id}/artifacts/{REPORT_ARTIFACT}",
            }
        )
    artifacts = sorted(store.list_artifacts(run_id), key=lambda a: a.name)
    return render_html("report_page.html", run=run, view=view, artifacts=artifacts)


@routes.route("GET", r"/runs/(?P<run_id>[^/]+)/artifacts/(?P<name>[A-Za-z0-9_.-]+)")
def _artifact(request: flask.Request, as_json: bool, run_id: str, name: str) -> flask.Response:
    artifact = services().store.get_artifact(run_id, name)
    if artifact is None:
        return error_page(request, as_json, 404, f"run {run_id!r} has no artifact {name!r}")
    if artifact.uri and request.args.get("inline") != "1":
        # Published to a bucket that signs links (GCS, S3): send the reader there. A local
        # folder signs nothing, and a bucket that refuses to sign falls back to the copy here.
        with contextlib.suppress(ControlroomError):
            signed = artifact_store().url(run_id, name)
            if signed:
                return flask.Response(status=302, headers={"Location": signed})
    # The HTML report is rendered from Markdown with raw HTML disabled; the policy forbids
    # scripts in it anyway.
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": ARTIFACT_CSP}
    return flask.Response(artifact.content, mimetype=artifact.content_type, headers=headers)
