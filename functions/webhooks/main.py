"""webhooks: HTTP entry point that starts workflow runs (more platform webhooks to come)."""

import flask
import functions_framework


@functions_framework.http
def handle_webhook(request: flask.Request) -> flask.Response:
    """Authenticate, validate and publish a run request; 4xx on any bad input."""
    from shared.web.webhooks import handle_webhook_request

    return handle_webhook_request(request)
