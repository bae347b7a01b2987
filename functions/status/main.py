"""status: the Firestore-backed status page (HTML for people, /api/... JSON for programs).

Runs and their timelines, conversations and their resolution, knowledge-base drafts, the site
chat for visitors, and support statistics; routes are listed in shared/web/status.py.
"""

import flask
import functions_framework


@functions_framework.http
def status_page(request: flask.Request) -> flask.Response:
    """Route one request of the status page."""
    from shared.web.status import handle_status_request

    return handle_status_request(request)
