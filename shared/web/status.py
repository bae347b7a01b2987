"""HTTP routing of the status function: runs, one run's tasks and timeline, as HTML or JSON."""

from __future__ import annotations

from functools import cache
from typing import Any

import flask
import jinja2

from shared.app.report import REPORT_ARTIFACT
from shared.web.responses import json_response
from shared.wiring import services

MAX_RUNS = 100


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shared.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )


def _html(template: str, **context: Any) -> flask.Response:
    body = _templates().get_template(template).render(**context)
    return flask.Response(body, mimetype="text/html")


def handle_status_request(request: flask.Request) -> flask.Response:
    """GET / and /runs (list), /runs/<id> (detail), /runs/<id>/report; /api/... for JSON."""
    if request.method != "GET":
        return json_response({"error": "the status page is read-only for now"}, 405)
    path = request.path.rstrip("/") or "/"
    as_json = path.startswith("/api/")
    if as_json:
        path = path.removeprefix("/api")
    parts = [p for p in path.split("/") if p]
    if path == "/healthz":
        return json_response({"ok": True})
    if parts in ([], ["runs"]):
        return _runs_page(as_json, request.args.get("limit", "50"))
    if len(parts) == 2 and parts[0] == "runs":
        return _run_page(parts[1], as_json)
    if len(parts) == 3 and parts[0] == "runs" and parts[2] == "report":
        return _report(parts[1])
    return json_response({"error": f"no page at {request.path}"}, 404)


def _runs_page(as_json: bool, limit_arg: str) -> flask.Response:
    if not limit_arg.isdigit() or not 1 <= int(limit_arg) <= MAX_RUNS:
        return json_response({"error": f"limit must be an integer from 1 to {MAX_RUNS}"}, 400)
    runs = services().store.list_runs(int(limit_arg))
    if as_json:
        return json_response({"runs": [r.model_dump(mode="json") for r in runs]})
    return _html("runs.html", runs=runs)


def _run_page(run_id: str, as_json: bool) -> flask.Response:
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


def _report(run_id: str) -> flask.Response:
    artifact = services().store.get_artifact(run_id, REPORT_ARTIFACT)
    if artifact is None:
        return json_response({"error": f"run {run_id!r} has no report yet"}, 404)
    return flask.Response(artifact.content, mimetype="text/markdown")
