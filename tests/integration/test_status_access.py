"""Who may use the status page: scoped tokens, browser sign-in with anti-forgery tokens, the
audit trail, the open read-only mode without tokens, and the live run page's JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_store import FirestoreStore
from shared.app.timeline import run_event
from shared.core.documents import RunDoc, TaskDoc, TicketDoc
from shared.support.inbound import parse_generic
from tests.conftest import API_TOKEN, Emulators
from tests.helpers.status_client import (
    BROWSER,
    clear_settings_caches,
    form_value,
    sign_in,
    status_client,
)
from tests.helpers.tickets import open_ticket

pytestmark = pytest.mark.integration

ALICE = "alice-act-token-0001"
DASH = "dash-read-token-0001"
TOKENS = {"alice": f"act:{ALICE}", "dash": f"read:{DASH}"}
T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
KEY = "generic:conv-access"
ANSWER = "Yes, you can change the delivery address until the parcel ships."


@pytest.fixture
def configured(clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Alice may act, the dashboard may read (and the API token acts as "api")."""
    monkeypatch.setenv("CONTROLROOM_STATUS_TOKENS", json.dumps(TOKENS))
    clear_settings_caches()
    yield
    monkeypatch.undo()
    clear_settings_caches()


@pytest.fixture
def store(clean_emulators: Emulators) -> FirestoreConversations:
    return FirestoreConversations(clean_emulators.project)


@pytest.fixture
def escalated(store: FirestoreConversations) -> str:
    [inbound] = parse_generic(
        {
            "message_id": "m-access",
            "conversation_id": "conv-access",
            "user": {"id": "user-1", "name": "Ada"},
            "text": "Can I change my delivery address?",
            "sent_at": T0.isoformat(),
        }
    )
    message_id = store.record_inbound(inbound, T0).record_id
    ticket = TicketDoc(
        ticket_id=message_id,
        conversation_key=KEY,
        message_id=message_id,
        reason="asks for a person",
        created_at=T0 + timedelta(seconds=1),
    )
    open_ticket(store, ticket, T0 + timedelta(seconds=1))
    return KEY


def _audit(store: FirestoreConversations) -> list[dict[str, object]]:
    docs = [d.get().to_dict() or {} for d in store.client.collection("audit").list_documents()]
    return sorted(
        ({k: d[k] for k in ("who", "via", "action", "target", "outcome")} for d in docs),
        key=lambda entry: (str(entry["action"]), str(entry["who"])),
    )


def _roles(store: FirestoreConversations) -> list[str]:
    return [m.role for m in store.list_messages(KEY)]


def test_without_a_credential_reading_is_401_and_a_browser_gets_the_sign_in_form(
    configured: None, escalated: str
) -> None:
    anonymous = status_client(token=None)

    api = anonymous.get("/api/runs")
    page = anonymous.get("/conversations", headers=BROWSER)
    action = anonymous.post(f"/api/conversations/{KEY}/resolve", json={"answer": ANSWER})
    public = anonymous.get("/chat")

    assert api.status_code == 401 and api.headers["WWW-Authenticate"] == "Bearer"
    assert "sign in at /signin" in api.get_json()["error"]
    assert page.status_code == 401 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'action="/signin"' in html and 'name="next" value="/conversations"' in html
    assert action.status_code == 401
    assert public.status_code == 200


def test_a_read_token_reads_but_acting_is_403_and_the_refusal_is_audited(
    configured: None, escalated: str, store: FirestoreConversations
) -> None:
    dashboard = status_client(DASH)

    listed = dashboard.get("/api/conversations")
    refused = dashboard.post(f"/api/conversations/{KEY}/resolve", json={"answer": ANSWER})
    page = dashboard.get(f"/conversations/{KEY}").get_data(as_text=True)

    assert listed.status_code == 200
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "'dash' may read; this needs the act scope"
    assert _roles(store) == ["customer"]
    assert 'action="/conversations/generic%3Aconv-access/resolve"' not in page
    assert "Sign in with a token that may act" in page
    assert _audit(store) == [
        {
            "who": "dash",
            "via": "bearer",
            "action": f"POST /conversations/{KEY}/resolve",
            "target": f"/conversations/{KEY}/resolve",
            "outcome": "denied",
        },
        {
            "who": "dash",
            "via": "bearer",
            "action": "api.read",
            "target": "/conversations",
            "outcome": "done",
        },
    ]


def test_an_act_token_acts_and_the_action_is_recorded_with_who_did_it(
    configured: None, escalated: str, store: FirestoreConversations
) -> None:
    alice = status_client(ALICE)

    first = alice.post(f"/api/conversations/{KEY}/resolve", json={"answer": ANSWER})
    again = alice.post(f"/api/conversations/{KEY}/resolve", json={"answer": ANSWER})
    api = status_client(API_TOKEN).get("/api/audit").get_json()

    assert (first.status_code, again.get_json()["already_resolved"]) == (200, True)
    resolution = store.get_resolution("generic:m-access")
    assert resolution is not None and resolution.resolved_by == "alice"
    assert _audit(store) == [
        {
            "who": "api",
            "via": "bearer",
            "action": "api.read",
            "target": "/audit",
            "outcome": "done",
        },
        {
            "who": "alice",
            "via": "bearer",
            "action": "conversation.resolve",
            "target": KEY,
            "outcome": "done",
        },
        {
            "who": "alice",
            "via": "bearer",
            "action": "conversation.resolve",
            "target": KEY,
            "outcome": "unchanged",
        },
    ]
    assert [entry["outcome"] for entry in api["audit"]] == ["unchanged", "done"]  # newest first


def test_a_browser_signs_in_and_its_forms_need_the_sessions_anti_forgery_token(
    configured: None, escalated: str, store: FirestoreConversations
) -> None:
    browser = status_client(token=None)
    csrf = sign_in(browser, ALICE)
    cookie = browser.get_cookie("controlroom_session")
    form = {"answer": ANSWER}

    missing = browser.post(f"/conversations/{KEY}/resolve", data=form, headers=BROWSER)
    forged = browser.post(
        f"/conversations/{KEY}/resolve", data={**form, "csrf_token": "f" * 64}, headers=BROWSER
    )
    written = _roles(store)
    done = browser.post(
        f"/conversations/{KEY}/resolve", data={**form, "csrf_token": csrf}, headers=BROWSER
    )

    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/"
    assert cookie.max_age == 12 * 3600 and not cookie.secure  # http locally; Secure on https
    assert (missing.status_code, forged.status_code) == (403, 403)
    assert "anti-forgery token" in missing.get_data(as_text=True)
    assert written == ["customer"]  # nothing was sent before the right token
    assert done.status_code == 303
    assert done.headers["Location"] == "/conversations/generic%3Aconv-access"
    assert _roles(store) == ["customer", "human"]
    page = browser.get(done.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Signed in as <strong>alice</strong>" in page and "Resolved by alice" in page
    assert [(e["who"], e["via"], e["action"], e["outcome"]) for e in _audit(store)] == [
        ("alice", "session", "POST /conversations/generic:conv-access/resolve", "denied"),
        ("alice", "session", "POST /conversations/generic:conv-access/resolve", "denied"),
        ("alice", "session", "conversation.resolve", "done"),
        ("alice", "session", "session.signin", "done"),
    ]


def test_a_json_post_from_a_session_needs_the_token_in_a_header(
    configured: None, escalated: str, store: FirestoreConversations
) -> None:
    browser = status_client(token=None)
    csrf = sign_in(browser, ALICE)

    without = browser.post(f"/api/conversations/{KEY}/resolve", json={"answer": ANSWER})
    with_header = browser.post(
        f"/api/conversations/{KEY}/resolve", json={"answer": ANSWER}, headers={"X-CSRF-Token": csrf}
    )

    assert without.status_code == 403
    assert with_header.status_code == 200 and with_header.get_json()["resolved"] is True


def test_a_read_session_cannot_act_even_with_its_token(
    configured: None, escalated: str, store: FirestoreConversations
) -> None:
    browser = status_client(token=None)
    csrf = sign_in(browser, DASH)

    refused = browser.post(
        f"/conversations/{KEY}/resolve", data={"answer": ANSWER, "csrf_token": csrf}
    )

    assert refused.status_code == 403 and _roles(store) == ["customer"]


def test_sign_in_refuses_a_wrong_token_a_cross_site_post_and_a_foreign_next(
    configured: None,
) -> None:
    browser = status_client(token=None)
    form = browser.get("/signin?next=/kpis", headers=BROWSER).get_data(as_text=True)
    nonce = form_value(form, "signin_nonce")

    wrong = browser.post(
        "/signin", data={"token": "not-a-token-at-all", "signin_nonce": nonce}, headers=BROWSER
    )
    cross_site = status_client(token=None).post(
        "/signin", data={"token": ALICE, "signin_nonce": nonce}, headers=BROWSER
    )
    renewed = form_value(wrong.get_data(as_text=True), "signin_nonce")  # a new form, new nonce
    elsewhere = browser.post(
        "/signin",
        data={"token": ALICE, "signin_nonce": renewed, "next": "//evil.example/x"},
        headers=BROWSER,
    )

    assert form_value(form, "next") == "/kpis"
    assert wrong.status_code == 401 and "That token is not valid." in wrong.get_data(as_text=True)
    assert cross_site.status_code == 403  # no nonce cookie: the form came from elsewhere
    assert (elsewhere.status_code, elsewhere.headers["Location"]) == (303, "/runs")


def test_signing_out_or_tampering_with_the_cookie_ends_the_session(configured: None) -> None:
    browser = status_client(token=None)
    csrf = sign_in(browser, ALICE)
    cookie = browser.get_cookie("controlroom_session")
    assert cookie is not None

    browser.set_cookie("controlroom_session", cookie.value[:-3] + "abc")
    tampered = browser.get("/api/runs")
    browser.set_cookie("controlroom_session", cookie.value)
    restored = browser.get("/api/runs")
    signed_out = browser.post("/signout", data={"csrf_token": csrf}, headers=BROWSER)
    after = browser.get("/api/runs")

    assert (tampered.status_code, restored.status_code) == (401, 200)
    assert (signed_out.status_code, signed_out.headers["Location"]) == (303, "/signin")
    assert after.status_code == 401


def test_without_any_token_configured_reading_is_open_and_acting_refused(
    clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch, escalated: str
) -> None:
    monkeypatch.setenv("CONTROLROOM_API_TOKEN", "")
    monkeypatch.delenv("CONTROLROOM_STATUS_TOKENS", raising=False)
    clear_settings_caches()
    try:
        anonymous = status_client(token=None)
        listed = anonymous.get("/api/conversations")
        page = anonymous.get("/conversations", headers=BROWSER).get_data(as_text=True)
        refused = anonymous.post(f"/api/conversations/{KEY}/resolve", json={"answer": ANSWER})
        bearer = status_client("anything-at-all-0001").get("/api/runs")
    finally:
        monkeypatch.undo()
        clear_settings_caches()

    assert listed.status_code == 200
    assert "Open for reading: no tokens are configured" in page
    assert refused.status_code == 401 and "read-only" in refused.get_json()["error"]
    assert bearer.status_code == 401


def test_pages_carry_a_script_nonce_policy_and_escape_what_customers_wrote(
    configured: None, escalated: str
) -> None:
    page = status_client(ALICE).get(f"/conversations/{KEY}", headers=BROWSER)

    policy = page.headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    html = page.get_data(as_text=True)
    assert "frame-ancestors 'none'" in policy and page.headers["X-Frame-Options"] == "DENY"
    assert all(f'nonce="{nonce}"' in tag for tag in html.split("<script")[1:])


def test_the_run_json_answers_304_until_the_run_changes(
    configured: None, clean_emulators: Emulators
) -> None:
    store = FirestoreStore(clean_emulators.project)
    run = RunDoc(
        run_id="run-live-1", workflow="weekly_gtm", trigger="api", task_count=1, created_at=T0
    )
    task = TaskDoc(run_id="run-live-1", task_id="finance", agent="finance", created_at=T0)
    store.create_run(run, [task], [run_event("run-live-1", "run.created", "requested", T0)])
    reader = status_client(DASH)

    first = reader.get("/api/runs/run-live-1")
    etag = first.headers["ETag"]
    unchanged = reader.get("/api/runs/run-live-1", headers={"If-None-Match": etag})
    store.append_event(run_event("run-live-1", "task.started", "finance started", T0))
    changed = reader.get("/api/runs/run-live-1", headers={"If-None-Match": etag})
    html = reader.get("/runs/run-live-1", headers=BROWSER).get_data(as_text=True)

    assert (first.status_code, unchanged.status_code, changed.status_code) == (200, 304, 200)
    assert unchanged.get_data() == b"" and changed.headers["ETag"] != etag
    assert [e["type"] for e in changed.get_json()["events"]] == ["run.created", "task.started"]
    assert 'data-live="on"' in html and 'data-api="/api/runs/run-live-1"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert "If-None-Match" in html  # the polling script
