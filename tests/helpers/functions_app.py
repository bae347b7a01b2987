"""Load a function's main.py through the real functions-framework, as Cloud Run does."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import flask
import functions_framework

REPO = Path(__file__).resolve().parents[2]


def function_client(source: str, target: str, signature: str) -> flask.testing.FlaskClient:
    """A test client of the framework's own app for functions/<source>/main.py."""
    app = functions_framework.create_app(
        target, str(REPO / "functions" / source / "main.py"), signature
    )
    return app.test_client()


def pubsub_cloud_event(
    data: bytes, attributes: dict[str, str], message_id: str, topic: str = "t"
) -> tuple[dict[str, str], str]:
    """Headers and body of the binary-mode CloudEvent Eventarc POSTs for a Pub/Sub message."""
    headers = {
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": f"//pubsub.googleapis.com/projects/controlroom-test/topics/{topic}",
        "ce-id": message_id,
        "Content-Type": "application/json",
    }
    body: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": message_id,
            "publishTime": "2026-11-16T08:00:00Z",
        },
        "subscription": "projects/controlroom-test/subscriptions/s",
    }
    return headers, json.dumps(body)
