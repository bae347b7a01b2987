"""The win-back campaign through real function processes: choose, draft, price, approve, send.

Emails go over SMTP to the local sink, which keeps duplicates, so "exactly once" is counted,
not assumed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from emulators.cloud import LocalCloud
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.core.documents import RunDoc
from shared.core.messages import AgentTask
from shared.core.models import ApprovalStatus, RunStatus, TaskStatus
from shared.core.topology import SWEEPS_TOPIC, agent_topic
from tests.conftest import API_TOKEN
from tests.e2e.conftest import start_run_via_api, wait_for_run
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def wait_for_approval(store: FirestoreStore, run_id: str, timeout_s: float = 90) -> RunDoc:
    """The run once it waits for a decision."""

    def waiting() -> RunDoc | None:
        run = store.get_run(run_id)
        if run is not None and run.status.terminal:
            raise AssertionError(f"run ended {run.status} before its approval: {run.summary}")
        return run if run is not None and run.status is RunStatus.WAITING else None

    return wait_for(waiting, timeout_s, f"run {run_id} to wait for approval")


def decide(cloud: LocalCloud, run_id: str, **body: object) -> httpx.Response:
    """POST a decision to the status page as JSON with the act token."""
    return httpx.post(
        f"{cloud.status_url}/api/runs/{run_id}/approvals/approve",
        json=body,
        headers=AUTH,
        timeout=10,
    )


def sent_per_message_id(cloud: LocalCloud) -> Counter[str]:
    """How many times each Message-ID reached the SMTP sink."""
    assert cloud.smtp is not None
    return cloud.smtp.count_by_message_id()


def test_an_approved_campaign_sends_each_email_once_and_logs_it(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    run_id = start_run_via_api(cloud, workflow="winback", params={"max_customers": 6})
    run = wait_for_approval(store, run_id)

    assert run.step == "approve"
    pending = httpx.get(f"{cloud.status_url}/api/approvals", headers=AUTH, timeout=10).json()
    proposal = next(a for a in pending["approvals"] if a["run_id"] == run_id)["proposal"]
    assert proposal["customers"] == 6 and len(proposal["drafts"]) == 6
    assert proposal["estimate"]["customers_targeted"] == 6
    left_out = proposal["drafts"][0]["customer_id"]
    assert sent_per_message_id(cloud) == Counter()  # nothing leaves before the decision

    edits = {"subject": "We miss you", "exclude": [left_out]}
    answer = decide(cloud, run_id, decision="approve", comment="go", edits=edits)
    assert answer.status_code == 202, answer.text
    again = decide(cloud, run_id, decision="reject")
    assert again.status_code == 409, again.text

    done = wait_for_run(store, run_id, timeout_s=90)
    assert done.status is RunStatus.SUCCEEDED, done.failure_reasons
    assert done.summary is not None and "5 sent" in done.summary
    counts = sent_per_message_id(cloud)
    assert len(counts) == 5 and set(counts.values()) == {1}
    assert cloud.smtp is not None
    assert {m.subject for m in cloud.smtp.messages()} == {"We miss you"}
    events = [e.type for e in store.list_events(run_id)]
    # The agent writes its task.succeeded entry after the task document, so it may land after
    # the run's own last entries: check that the run's end is recorded, not the order.
    assert "approval.approved" in events and "run.succeeded" in events
    approval = store.get_approval(run_id, "approve")
    assert approval is not None and approval.decided_by == "api" and approval.comment == "go"
    campaign = httpx.get(
        f"{cloud.status_url}/runs/{run_id}/artifacts/campaign.csv", headers=AUTH, timeout=10
    )
    assert campaign.status_code == 200 and campaign.text.count("\n") == 6  # header + 5 rows

    def exported() -> list[object] | None:
        snap = store.client.collection("sheet_exports").document(run_id).get()
        return snap.get("rows") if snap.exists else None

    rows = wait_for(exported, 30, "the sheet log")
    assert len(rows) == 5


def test_a_customer_who_unsubscribes_from_an_email_is_left_out_of_the_next_campaign(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    run_id = start_run_via_api(cloud, workflow="winback", params={"max_customers": 2})
    run = wait_for_approval(store, run_id)
    assert decide(cloud, run_id, decision="approve").status_code == 202
    done = wait_for_run(store, run_id, timeout_s=90)
    assert done.status is RunStatus.SUCCEEDED, done.failure_reasons
    assert cloud.smtp is not None
    first, _ = sorted(cloud.smtp.messages(), key=lambda m: m.subject)
    mime = first.parsed()
    # What the customer reads: their own code, the date, and a way out that works.
    code_row = next(
        t.output["email"] for t in store.list_tasks(run_id, step="draft")
        if t.output and f"<{t.output['email']['to']}>" in mime["To"]
    )  # fmt: skip
    assert code_row["code"] in first.text() and "ordered from Northwind Goods" in first.text()
    link = mime["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{cloud.status_url}/unsubscribe?")
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    clicked = httpx.post(link, data={"List-Unsubscribe": "One-Click"}, timeout=10)

    assert clicked.status_code == 200 and clicked.json()["unsubscribed"] is True
    next_id = start_run_via_api(cloud, workflow="winback", params={"max_customers": 2})
    wait_for_approval(store, next_id)
    chosen = store.list_tasks(next_id, step="select")[0].output["customers"]  # type: ignore[index]
    assert code_row["customer_id"] not in [c["customer_id"] for c in chosen]
    assert "1 more have unsubscribed" in store.list_tasks(next_id, step="select")[0].output["rule"]  # type: ignore[index]
    assert run.step == "approve"
    assert decide(cloud, next_id, decision="reject").status_code == 202


def test_a_rejected_campaign_sends_nothing(cloud: LocalCloud, store: FirestoreStore) -> None:
    run_id = start_run_via_api(cloud, workflow="winback", params={"max_customers": 3})
    wait_for_approval(store, run_id)

    answer = decide(cloud, run_id, decision="reject", comment="not this month")

    assert answer.status_code == 202, answer.text
    done = wait_for_run(store, run_id)
    assert done.status is RunStatus.CANCELLED
    assert done.summary is not None and "rejected by api: not this month" in done.summary
    assert sent_per_message_id(cloud) == Counter()
    assert not store.list_tasks(run_id, step="send")


def test_an_expired_approval_cancels_the_run_and_sends_nothing(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    params = {"max_customers": 2, "approval_expires_s": 1}
    run_id = start_run_via_api(cloud, workflow="winback", params=params)
    wait_for_approval(store, run_id)

    def swept() -> RunDoc | None:
        # The scheduler ticks every five minutes; the test ticks it itself.
        PubSubBus(store.client.project).publish_raw(SWEEPS_TOPIC, b"{}", {"kind": "sweep"})
        run = store.get_run(run_id)
        return run if run is not None and run.status.terminal else None

    done = wait_for(swept, 60, "the sweeper to expire the approval", interval_s=3.0)

    assert done.status is RunStatus.CANCELLED
    approval = store.get_approval(run_id, "approve")
    assert approval is not None and approval.status is ApprovalStatus.EXPIRED
    late = decide(cloud, run_id, decision="approve")
    assert late.status_code == 409
    assert sent_per_message_id(cloud) == Counter()


def test_a_failed_send_step_is_retried_from_that_step_only(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    run_id = start_run_via_api(cloud, workflow="winback", params={"max_customers": 2})
    wait_for_approval(store, run_id)
    assert cloud.smtp is not None
    cloud.smtp.stop()  # the mail server is down: every send attempt fails
    try:
        assert decide(cloud, run_id, decision="approve").status_code == 202
        failed = wait_for_run(store, run_id, timeout_s=120)
    finally:
        cloud.smtp.start()
    assert failed.status is RunStatus.FAILED and failed.failed_step == "send"
    drafts_before = {t.task_id: t.attempts for t in store.list_tasks(run_id, step="draft")}

    answer = httpx.post(
        f"{cloud.status_url}/api/runs/{run_id}/retry", json={"reason": "smtp back"}, headers=AUTH
    )
    assert answer.status_code == 202, answer.text

    def succeeded() -> RunDoc | None:
        run = store.get_run(run_id)
        return run if run is not None and run.status is RunStatus.SUCCEEDED else None

    done = wait_for(succeeded, 60, "the retried run to succeed")
    assert done.attempt == 2
    assert {t.task_id: t.attempts for t in store.list_tasks(run_id, step="draft")} == drafts_before
    assert all(t.status is TaskStatus.SUCCEEDED for t in store.list_tasks(run_id, step="send"))
    assert len(sent_per_message_id(cloud)) == 2 and set(sent_per_message_id(cloud).values()) == {1}
    assert "run.retried" in [e.type for e in store.list_events(run_id)]


def _republish(store: FirestoreStore, run_id: str, step: str, count: int) -> int:
    """Publish a second copy of `count` of the step's tasks, as Pub/Sub may redeliver."""
    bus = PubSubBus(store.client.project)
    run = store.get_run(run_id)
    assert run is not None
    tasks = store.list_tasks(run_id, step=step)[:count]
    for task in tasks:
        bus.publish(
            agent_topic(task.agent),
            AgentTask(
                run_id=run_id,
                task_id=task.task_id,
                agent=task.agent,
                workflow=run.workflow,
                step=step,
                params=task.input,
            ),
        )
    return len(tasks)


STRIPE_EVENT = Path(__file__).resolve().parents[1] / "unit/payloads/webhooks"
STRIPE_EVENT = STRIPE_EVENT / "stripe_customer_subscription_deleted.json"


def test_a_stripe_cancellation_starts_a_win_back_for_that_customer_once(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    event = json.loads(STRIPE_EVENT.read_text())
    event["id"] = "evt_e2e_cancel_0064"
    event["data"]["object"]["customer"] = "cus_0064"  # a customer of the sample business
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    secret = cloud.config.webhook_secrets["stripe"].encode()
    digest = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"}

    for _ in range(2):  # Stripe retries deliveries; the second is a duplicate
        answer = httpx.post(f"{cloud.webhooks_url}/webhooks/stripe", content=body, headers=headers)
        assert answer.status_code == 200, answer.text

    def started() -> RunDoc | None:
        runs = [r for r in store.list_runs(limit=10) if r.workflow == "winback"]
        return runs[0] if runs else None

    run = wait_for_approval(store, wait_for(started, 30, "a win-back run").run_id)
    assert run.trigger == "webhook" and run.params["customer_id"] == "cus_0064"
    assert run.requested_by == "stripe:customer.subscription.deleted"
    approval = store.get_approval(run.run_id, "approve")
    assert approval is not None and approval.proposal["customers"] == 1
    assert approval.proposal["drafts"][0]["customer_id"] == "cus_0064"
    assert [r.run_id for r in store.list_runs(limit=10) if r.workflow == "winback"] == [run.run_id]


def test_a_waiting_campaign_can_be_cancelled_and_then_nothing_is_decided_or_sent(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    run_id = start_run_via_api(cloud, workflow="winback", params={"max_customers": 2})
    wait_for_approval(store, run_id)

    answer = httpx.post(
        f"{cloud.status_url}/api/runs/{run_id}/cancel", json={"reason": "wrong list"}, headers=AUTH
    )

    assert answer.status_code == 202, answer.text
    done = wait_for_run(store, run_id)
    assert done.status is RunStatus.CANCELLED
    assert decide(cloud, run_id, decision="approve").status_code == 409
    again = httpx.post(f"{cloud.status_url}/api/runs/{run_id}/cancel", json={}, headers=AUTH)
    assert again.status_code == 409
    cancelled = [e for e in store.list_events(run_id) if e.type == "run.cancelled"]
    assert len(cancelled) == 1 and "by api" in cancelled[0].message
    assert "wrong list" in cancelled[0].message
    assert sent_per_message_id(cloud) == Counter()
