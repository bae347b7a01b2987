"""A 1,000-customer win-back in the local cloud, while messages are duplicated and the
marketing agent's process is killed mid-send: exactly 1,000 emails leave, one per customer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulators.cloud import LocalCloud
from shared.adapters.firestore_store import FirestoreStore
from shared.core.models import RunStatus, TaskStatus
from tests.conftest import Emulators
from tests.e2e.conftest import running_cloud
from tests.e2e.test_winback import AUTH, _republish, decide, sent_per_message_id, wait_for_approval
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e

CUSTOMERS = 1000
# 4,000 sample customers hold about 2,200 repeat buyers below P(alive) 0.95.
DATA = {"CONTROLROOM_SAMPLE_CUSTOMERS": "4000"}


@pytest.fixture(scope="module")
def cloud(emulators: Emulators, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """A local cloud whose insights and finance agents read a larger sample business."""
    env = {"agent-insights": DATA, "agent-finance": DATA}
    yield from running_cloud(emulators, tmp_path_factory, function_env=env, scheduler=False)


def test_a_thousand_customer_campaign_sends_a_thousand_emails_and_no_more(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    params = {"max_customers": CUSTOMERS, "max_p_alive": 0.95}
    answer = httpx.post(
        f"{cloud.webhooks_url}/runs",
        json={"workflow": "winback", "params": params},
        headers=AUTH,
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["run_id"]

    def drafting() -> bool:
        run = store.get_run(run_id)
        return run is not None and run.step == "draft"

    wait_for(drafting, 120, "the draft step to start")
    assert _republish(store, run_id, "draft", 150) == 150  # duplicate deliveries

    run = wait_for_approval(store, run_id, timeout_s=400)
    approval = store.get_approval(run_id, "approve")
    assert approval is not None and approval.proposal["customers"] == CUSTOMERS
    assert len(store.list_tasks(run_id, step="draft")) == CUSTOMERS
    assert sent_per_message_id(cloud).total() == 0
    assert decide(cloud, run_id, decision="approve").status_code == 202

    assert cloud.smtp is not None
    cloud.smtp.wait_for_count(200, timeout_s=240)
    cloud.kill_function("agent-marketing")  # a crash mid-send, deliveries in flight
    cloud.restart_function("agent-marketing")
    _republish(store, run_id, "send", 150)

    def finished() -> bool:
        current = store.get_run(run_id)
        return current is not None and current.status.terminal

    wait_for(finished, 400, "the campaign to finish", interval_s=1.0)
    run = store.get_run(run_id)
    assert run is not None and run.status is RunStatus.SUCCEEDED, run and run.failure_reasons
    counts = sent_per_message_id(cloud)
    assert len(counts) == CUSTOMERS
    assert counts.total() == CUSTOMERS, [k for k, n in counts.items() if n > 1]
    sends = store.list_tasks(run_id, step="send")
    assert len(sends) == CUSTOMERS and all(t.status is TaskStatus.SUCCEEDED for t in sends)
    failed_posts = [r for r in cloud.pumps["agent-marketing"].records if r.error is not None]
    assert failed_posts, "the kill should have broken deliveries in flight"
