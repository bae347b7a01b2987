"""The Pub/Sub emulator restarted mid-run, on the same port and re-provisioned: the run whose
last task is still working finishes, and the cloud carries on with new runs; a task whose
message the emulator held (and forgot) is sent again by the sweep within a minute.

The emulator keeps nothing on disk, so what it held at the restart is gone; Pub/Sub in the
cloud keeps it. The restart here happens while the run's last task is inside an agent, so
the result that agent publishes afterwards is what must get through.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import partial

import pytest

from emulators.cloud import LocalCloud
from shared.adapters.firestore_store import FirestoreStore
from shared.core.models import RunStatus, TaskStatus
from tests.e2e.conftest import start_run_via_api, wait_for_run
from tests.faults.conftest import FaultFigures, effect_repeats, effects_done, llm_env
from tests.helpers.fakes.scripted_openai import ScriptedOpenAI
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e

EFFECTS = {"artifacts", "announce", "export"}


@pytest.fixture
def slow_finance(cloud: LocalCloud, llm_fake: ScriptedOpenAI) -> Iterator[None]:
    """The finance agent takes 6 s per task, then is put back."""
    env = llm_env(llm_fake)
    cloud.restart_function(
        "agent-finance", {**env, "CONTROLROOM_FAULTS": json.dumps({"finance": {"delay_s": 6}})}
    )
    yield
    cloud.restart_function("agent-finance", env)


def _all_effects_done(store: FirestoreStore, run_id: str) -> bool:
    return effects_done(store, run_id) >= EFFECTS


def test_a_run_finishes_across_a_pubsub_emulator_restart(
    cloud: LocalCloud, store: FirestoreStore, slow_finance: None, figures: FaultFigures
) -> None:
    run_id = start_run_via_api(cloud)

    def only_finance_working() -> bool:
        tasks = store.list_tasks(run_id)
        others_done = all(t.status.terminal for t in tasks if t.agent != "finance")
        return (
            len(tasks) == 4
            and others_done
            and any(
                e.type == "task.started" and e.agent == "finance" for e in store.list_events(run_id)
            )
        )

    # The emulator forgets what it holds: restart while the run's last task is in an agent.
    wait_for(only_finance_working, 30, "finance to be the last task at work")
    cloud.restart_pubsub()
    figures.restarts = figures.faults = 1
    run = wait_for_run(store, run_id, timeout_s=60)
    figures.runs = figures.runs_finished = 1

    # A new run after the restart goes through the re-provisioned topics end to end.
    after = wait_for_run(store, start_run_via_api(cloud), timeout_s=60)
    figures.runs = figures.runs_finished = 2
    for done in (run, after):
        wait_for(partial(_all_effects_done, store, done.run_id), 30, "the effects")
        figures.effect_retries += effect_repeats(store, done.run_id)

    assert run.status is RunStatus.SUCCEEDED, run.failure_reasons
    finance = store.get_task(run_id, "finance")
    assert finance is not None and finance.status is TaskStatus.SUCCEEDED
    assert after.status is RunStatus.SUCCEEDED, after.failure_reasons
    assert figures.effect_retries == 0


@pytest.fixture
def sweeping(cloud: LocalCloud) -> Iterator[None]:
    """The sweep every 5 s, tasks unanswered for 10 s sent again; then back to no sweep."""
    cloud.restart_function("supervisor-sweeper", {"CONTROLROOM_TASK_STALL_S": "10"})
    cloud.start_sweeping(5)
    yield
    cloud.stop_sweeping()
    cloud.restart_function("supervisor-sweeper")


def test_a_task_message_lost_in_a_restart_is_sent_again_by_the_sweep_within_a_minute(
    cloud: LocalCloud, store: FirestoreStore, sweeping: None, figures: FaultFigures
) -> None:
    cloud.hold_delivery("agent-finance")  # finance's task waits in the emulator...
    try:
        run_id = start_run_via_api(cloud)

        def only_finance_waiting() -> bool:
            tasks = {t.agent: t for t in store.list_tasks(run_id)}
            return (
                len(tasks) == 4
                and tasks["finance"].status is TaskStatus.PENDING
                and all(t.status.terminal for agent, t in tasks.items() if agent != "finance")
            )

        wait_for(only_finance_waiting, 60, "every task but finance's to finish")
        cloud.restart_pubsub()  # ...and is forgotten with it
        restarted = time.monotonic()
        figures.restarts = figures.faults = 1
    finally:
        cloud.resume_delivery("agent-finance")
    run = wait_for_run(store, run_id, timeout_s=90)
    recovered_s = time.monotonic() - restarted
    figures.runs = figures.runs_finished = 1
    figures.notes.append(f"finance's lost task sent again; run done {recovered_s:.0f} s after")
    wait_for(partial(_all_effects_done, store, run_id), 30, "the effects")
    figures.effect_retries += effect_repeats(store, run_id)

    assert run.status is RunStatus.SUCCEEDED, run.failure_reasons
    resent = [e for e in store.list_events(run_id) if e.type == "task.resent"]
    assert resent and all("finance" in e.message for e in resent), resent
    assert recovered_s < 60, f"recovered {recovered_s:.0f} s after the restart"
    assert figures.effect_retries == 0
