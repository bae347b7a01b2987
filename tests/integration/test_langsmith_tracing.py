"""LangSmith tracing with a key set: the support graph's runs reach LangSmith's ingestion API
(a local recorder at the outer edge, answering as LangSmith does), with PII masked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_kb import FirestoreKnowledgeStore
from shared.core.messages import SupportMessage
from shared.core.models import utcnow
from shared.kb.ingest import ingest_directory
from shared.support.inbound import parse_generic
from shared.wiring.langsmith import langsmith_client
from tests.conftest import Emulators
from tests.helpers.fakes.recording_server import RecordedRequest, RecordingServer, Reply
from tests.helpers.functions_app import function_client, pubsub_cloud_event
from tests.helpers.status_client import clear_settings_caches
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.integration

ARTICLES = Path(__file__).resolve().parents[2] / "kb" / "articles"
EMAIL = "ada.lovelace@example.com"


def langsmith_api(request: RecordedRequest) -> Reply:
    """LangSmith's answers: GET /info describes the server, ingestion is accepted (202)."""
    if request.method == "GET":
        return Reply(200, {"version": "0.10.0", "batch_ingest_config": {}})
    return Reply(202, {})


def sent(server: RecordingServer) -> bytes:
    """Every body received so far, joined."""
    return b"\n".join(r.body for r in server.requests)


@pytest.fixture
def recorder(
    clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RecordingServer]:
    fake = RecordingServer(langsmith_api).start()
    monkeypatch.setenv("CONTROLROOM_LANGSMITH_API_KEY", "lsv2_test_key")
    monkeypatch.setenv("CONTROLROOM_LANGSMITH_ENDPOINT", fake.origin)
    monkeypatch.setenv("CONTROLROOM_LANGSMITH_PROJECT", "controlroom-test")
    clear_settings_caches()
    langsmith_client.cache_clear()
    yield fake
    monkeypatch.undo()
    clear_settings_caches()
    langsmith_client.cache_clear()
    fake.stop()


def test_a_support_answer_is_traced_to_langsmith_with_pii_masked(
    recorder: RecordingServer, clean_emulators: Emulators
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

    client = function_client("agents/support", "on_support_message", "cloudevent")
    status = client.post("/", headers=headers, data=body).status_code

    assert status == 200
    body = wait_for(
        lambda: sent(recorder) if b"retrieve" in sent(recorder) else None, 10, "the graph's runs"
    )
    assert b"controlroom-test" in body and b"support-messages" in body
    assert EMAIL.encode() not in body
    assert b"<EMAIL_1>" in body
