"""The baseline functions: functions-framework entry points that do nothing but answer.

The benchmarks start these as processes exactly as the local cloud starts ours (same
functions-framework command, gunicorn threads and environment), so what a case reports
against them is the cost of our code, not of the framework or the server.
"""

import flask
import functions_framework
from cloudevents.http import CloudEvent


@functions_framework.http
def ok(request: flask.Request) -> tuple[str, int]:
    """Answer 200 to anything."""
    return "ok", 200


@functions_framework.cloud_event
def ok_event(event: CloudEvent) -> None:
    """Acknowledge any CloudEvent."""
