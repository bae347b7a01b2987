"""LangSmith tracing with a key set: the support graph's runs reach LangSmith's ingestion API
(a local recorder at the outer edge, answering as LangSmith does), with PII masked."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_kb import FirestoreKnowledgeStore
from shared.kb.ingest import ingest_directory
from shared.langsmith_tracing import langsmith_client
from shared.models import utcnow
from shared.support.inbound import parse_generic
from shared.support.records import SupportMessage
from tests.conftest import Emulators
from tests.integration.functions_app import function_client, pubsub_cloud_event
from tests.integration.status_client import clear_settings_caches
from tests.support import wait_for

pytestmark = pytest.mark.integration

ARTICLES = Path(__file__).resolve().parents[2] / "kb" / "articles"
EMAIL = "ada.lovelace@example.com"


class LangSmithRecorder:
    """Records what a LangSmith client sends; answers like the API (GET /info, 202 on ingest)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(200, {"version": "0.10.0", "batch_ingest_config": {}})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                recorder.requests.append(("POST", self.path, body))
                self._answer(202, {})

            do_PATCH = do_POST

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent(self) -> bytes:
        """Every body received so far, joined."""
        return b"\n".join(body for _, _, body in self.requests)


@pytest.fixture
def recorder(
    clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LangSmithRecorder]:
    fake = LangSmithRecorder()
    monkeypatch.setenv("CONTROLROOM_LANGSMITH_API_KEY", "lsv2_test_key")
    monkeypatch.setenv("CONTROLROOM_LANGSMITH_ENDPOINT", fake.url)
    monkeypatch.setenv("CONTROLROOM_LANGSMITH_PROJECT", "controlroom-test")
    clear_settings_caches()
    langsmith_client.cache_clear()
    yield fake
    monkeypatch.undo()
    clear_settings_caches()
    langsmith_client.cache_clear()
    fake.server.shutdown()
    fake.server.server_close()


def test_a_support_answer_is_traced_to_langsmith_with_pii_masked(
    recorder: LangSmithRecorder, clean_emulators: Emulators
) -> None:
    ingest_directory(ARTICLES, FirestoreKnowledgeStore(clean_emulators.project))
    text = f"How do I reset my password? Write to {EMAIL} please"
    [inbound] = parse_generic(
        {"message_id": "ls1", "conversation_id": "conv-ls1", "user": {"id": "u1"}, "text": text}
    )
    FirestoreConversations(clean_emulators.project).record_inbound(inbound, utcnow())
    message = SupportMessage(inbound=inbound)
    headers, body = pubsub_cloud_event(
        message.model_dump_json().encode(), message.attributes(), "ls1"
    )

    client = function_client("agents/support", "on_task", "cloudevent")
    status = client.post("/", headers=headers, data=body).status_code

    assert status == 200
    sent = wait_for(
        lambda: recorder.sent() if b"retrieve" in recorder.sent() else None, 10, "the graph's runs"
    )
    assert b"controlroom-test" in sent and b"agent-support" in sent
    assert EMAIL.encode() not in sent
    assert b"<EMAIL_1>" in sent
