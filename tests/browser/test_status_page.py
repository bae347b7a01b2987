"""The status page in a real browser: a run updates live, an approval lets a run go on, an
escalated conversation is answered, and a page fits a phone.

Runs and messages start over the API (as the scheduler or a platform would); everything a
person does happens by clicking in Chromium, and every wait is on a condition with a deadline.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from emulators.cloud import LocalCloud
from emulators.demo import SUPPORT_DEMO_MESSAGES, seed_knowledge_base, send_chat_message
from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_store import FirestoreStore
from shared.core.documents import ConversationDoc, RunDoc
from shared.core.models import ApprovalStatus, RunStatus
from tests.browser.conftest import HELP_CENTRE_URL, WAIT_MS, Screenshots, sign_in
from tests.e2e.conftest import start_run_via_api
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


def _waiting(store: FirestoreStore, run_id: str) -> RunDoc | None:
    run = store.get_run(run_id)
    if run is not None and run.status.terminal:
        raise AssertionError(f"run ended {run.status} before its approval: {run.summary}")
    return run if run is not None and run.status is RunStatus.WAITING else None


def test_a_started_run_appears_and_its_page_updates_live(
    cloud: LocalCloud, store: FirestoreStore, browser: Browser, page: Page, shots: Screenshots
) -> None:
    sign_in(page, cloud)
    run_id = start_run_via_api(cloud)
    wait_for(lambda: store.get_run(run_id), 30, f"the supervisor to create run {run_id}")

    page.goto(f"{cloud.status_url}/runs")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=run_id))
    expect(row).to_contain_text("weekly_gtm")
    shots.take(page, "runs")
    row.get_by_role("link", name=run_id).click()
    expect(page).to_have_url(f"{cloud.status_url}/runs/{run_id}")
    status = page.locator("#run-status")
    expect(status).to_have_text("running")  # loaded before the run finished
    expect(page.locator("#run-live")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the run")).to_be_visible()
    shots.take(page, "run-in-progress")
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))

    expect(status).to_have_text("succeeded", timeout=WAIT_MS)

    assert loads == [], "the page reloaded instead of updating itself"
    expect(page.locator("#run-summary")).to_contain_text("Marketing: best channel email")
    expect(page.locator("#run-events")).to_contain_text("run.succeeded")
    expect(page.locator("#run-tasks tr")).to_have_count(4)
    expect(page.locator("#run-live")).to_be_hidden()
    expect(page.locator("#run-report")).to_be_visible()
    expect(page.locator("#run-steps li")).to_contain_text("succeeded 4/4 tasks done")
    # The drawn graph followed the run too, without a reload.
    analyse = page.locator('#run-graph g[data-step="analyse"]')
    expect(analyse).to_have_attribute("class", "node st-succeeded")
    expect(analyse).to_contain_text("succeeded · 4/4 tasks done")
    expect(page.get_by_role("button", name="Cancel the run")).to_be_hidden()
    shots.take(page, "run-succeeded")
    page.get_by_role("link", name="Read the report").click()
    expect(page.locator("h1")).to_contain_text("Weekly go-to-market report")
    expect(page.locator("table.headlines")).to_contain_text("€")
    assert page.locator("svg.chart").count() >= 4
    shots.take(page, "run-report")
    page.go_back()
    run = store.get_run(run_id)
    assert run is not None and run.status is RunStatus.SUCCEEDED
    _assert_fits_a_phone(browser, cloud, shots, ["/runs", f"/runs/{run_id}"])


def test_a_run_started_from_the_page_is_followed_to_its_report(
    cloud: LocalCloud, store: FirestoreStore, page: Page, shots: Screenshots
) -> None:
    sign_in(page, cloud, "/runs/new?workflow=weekly_gtm")
    form = page.locator("#start-weekly_gtm")
    form.get_by_label("Window days").fill("14")
    form.get_by_label("Note").fill("started from the browser")
    shots.take(page, "start-form")
    form.get_by_role("button", name="Start Weekly go-to-market report").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(cloud.status_url)}/runs/weekly_gtm-\w+$"))
    run_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=WAIT_MS)
    run = store.get_run(run_id)
    assert run is not None and run.params == {"window_days": 14, "note": "started from the browser"}
    assert run.requested_by == "api"
    page.get_by_role("link", name="Read the report").click()
    expect(page.locator("table.headlines")).to_contain_text("Support tickets, last 14 days")
    shots.take(page, "report")


def test_an_approval_given_in_the_browser_lets_the_run_go_on(
    cloud: LocalCloud, store: FirestoreStore, page: Page, shots: Screenshots
) -> None:
    run_id = start_run_via_api(cloud, workflow="winback", params={"max_customers": 3})
    wait_for(lambda: _waiting(store, run_id), 90, f"run {run_id} to wait for approval")
    comment = f"fine by me {uuid.uuid4().hex[:6]}"

    sign_in(page, cloud, "/approvals")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=run_id))
    expect(row).to_have_count(1)
    shots.take(page, "approvals")
    row.locator(f'a[href="/runs/{run_id}/approvals/approve"]').click()
    expect(page.get_by_role("heading", level=3).first).to_contain_text("Drafts (3 shown")
    expect(page.locator("main")).to_contain_text("Net value")
    expect(page.locator("main")).to_contain_text("€")
    boxes = page.get_by_role("checkbox")
    expect(boxes).to_have_count(3)
    left_out = boxes.nth(1).get_attribute("value")
    boxes.nth(1).check()
    page.get_by_label("Comment").fill(comment)
    shots.take(page, "approval-filled")
    page.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(f"{cloud.status_url}/runs/{run_id}")
    expect(page.locator("#run-events")).to_contain_text(f"leaving out {left_out}")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=WAIT_MS)
    expect(page.locator("#run-summary")).to_contain_text("2 sent")
    shots.take(page, "run-succeeded")
    approval = store.get_approval(run_id, "approve")
    assert approval is not None and approval.status is ApprovalStatus.APPROVED
    assert approval.decided_by == "api" and approval.comment == comment
    assert approval.edits == {"exclude": [left_out]}
    sends = [t for t in store.list_tasks(run_id) if t.step == "send"]
    assert sorted(t.task_id for t in sends) == sorted(
        f"send-{d['customer_id']}"
        for d in approval.proposal["drafts"]
        if d["customer_id"] != left_out
    )
    page.goto(f"{cloud.status_url}/approvals")
    expect(page.get_by_role("link", name=run_id)).to_have_count(0)


def test_an_escalated_conversation_is_answered_and_resolved(
    cloud: LocalCloud, store: FirestoreStore, page: Page, shots: Screenshots
) -> None:
    conversations = FirestoreConversations(cloud.config.project)
    urgent = dict(SUPPORT_DEMO_MESSAGES)["demo-2"]
    key = send_chat_message(cloud, f"browser-{uuid.uuid4().hex[:8]}", urgent)

    def escalated() -> ConversationDoc | None:
        conversation = conversations.get_conversation(key)
        return conversation if conversation and conversation.status == "escalated" else None

    wait_for(escalated, 30, f"conversation {key} to escalate")
    answer = "We blocked the card and a refund is on its way; a person will call you today."

    sign_in(page, cloud, "/conversations")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=key))
    expect(row).to_contain_text("escalated")
    shots.take(page, "conversations")
    row.get_by_role("link", name=key).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("escalated")
    page.get_by_placeholder(re.compile("Your answer goes to the customer")).fill(answer)
    shots.take(page, "answer-typed")
    page.get_by_role("button", name="Send and resolve").click()

    expect(heading).to_contain_text("resolved")
    expect(page.locator(".thread .human")).to_contain_text(answer)
    expect(page.get_by_text("Resolved by api")).to_be_visible()
    expect(page.get_by_role("button", name="Send and resolve")).to_have_count(0)
    shots.take(page, "resolved")
    conversation = conversations.get_conversation(key)
    assert conversation is not None and conversation.status == "resolved"


def test_the_site_chat_answers_with_its_sources_as_links(
    cloud: LocalCloud, page: Page, shots: Screenshots
) -> None:
    seed_knowledge_base(cloud)
    page.goto(f"{cloud.status_url}/chat")
    page.get_by_placeholder("Ask us anything").fill("How do I reset my password?")
    page.get_by_role("button", name="Send").click()

    link = page.locator(".line.agent a")
    expect(link).to_have_attribute("href", f"{HELP_CENTRE_URL}/password-reset")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(page.locator(".line.agent")).to_contain_text("Sources:")
    shots.take(page, "chat-sources")


def _assert_fits_a_phone(
    browser: Browser, cloud: LocalCloud, shots: Screenshots, paths: list[str]
) -> None:
    """Each page, on a 390x844 touch phone, is no wider than the screen."""
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        sign_in(page, cloud)
        for path in paths:
            page.goto(f"{cloud.status_url}{path}")
            expect(page.get_by_role("link", name="Approvals")).to_be_in_viewport()
            width = page.evaluate("document.documentElement.scrollWidth")
            shots.take(page, "phone" + path.replace("/", "-"))
            assert width <= PHONE["width"], f"{path} is {width}px wide on a 390px phone"
    finally:
        phone.close()
