"""status: the Firestore-backed status page (HTML for people, /api/... JSON for programs)."""

import flask
import functions_framework


@functions_framework.http
def status_page(request: flask.Request) -> flask.Response:
    """Serve the runs list, one run's tasks and timeline, and its report."""
    from shared.web.status import handle_status_request

    return handle_status_request(request)
