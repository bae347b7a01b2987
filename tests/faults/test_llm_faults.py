"""The LLM provider timing out, rate limiting with Retry-After, failing with 500, answering
malformed bodies or text that is not the schema: calls are retried, the offline fallback
answers when configured, and every run finishes with the reason on its record."""

from __future__ import annotations

from collections.abc import Iterator

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
# Four analysis agents write prose; marketing also drafts a campaign (structured output).
PROMPTS = 5


def _finish(store: FirestoreStore, run_id: str, figures: FaultFigures) -> None:
    wait_for(lambda: effects_done(store, run_id) >= EFFECTS, 30, "the effects")
    figures.runs = figures.runs_finished = 1
    figures.effect_retries = effect_repeats(store, run_id)


def _steps(store: FirestoreStore, run_id: str) -> list[str]:
    return [e.message for e in store.list_events(run_id) if e.type == "task.step"]


def test_transient_provider_failures_are_retried_until_it_answers(
    cloud: LocalCloud, store: FirestoreStore, llm_fake: ScriptedOpenAI, figures: FaultFigures
) -> None:
    llm_fake.reset("429", "500", "timeout", "malformed")
    run = wait_for_run(store, start_run_via_api(cloud), timeout_s=90)
    _finish(store, run.run_id, figures)
    met = llm_fake.by_prompt()
    figures.faults = sum(len(s) - 1 for s in met.values())

    assert run.status is RunStatus.SUCCEEDED, run.failure_reasons
    assert len(met) == PROMPTS
    for served in met.values():
        assert [s.reply for s in served] == ["429", "500", "timeout", "malformed", "answer"]
        assert served[1].at - served[0].at >= 0.95  # Retry-After: 1 was honoured
    tasks = store.list_tasks(run.run_id)
    assert {t.usage.provider for t in tasks if t.usage} == {"openai"}
    assert not any("fallback" in step for step in _steps(store, run.run_id))
    assert figures.effect_retries == 0


def test_a_provider_that_keeps_failing_falls_back_to_offline_and_says_why(
    cloud: LocalCloud, store: FirestoreStore, llm_fake: ScriptedOpenAI, figures: FaultFigures
) -> None:
    llm_fake.reset("500", "html", "malformed", "timeout", "500", "500")
    run = wait_for_run(store, start_run_via_api(cloud), timeout_s=90)
    _finish(store, run.run_id, figures)
    met = llm_fake.by_prompt()
    figures.faults = sum(len(s) for s in met.values())

    assert run.status is RunStatus.SUCCEEDED, run.failure_reasons
    assert len(met) == PROMPTS
    assert all(len(served) == 5 for served in met.values())  # LLM_MAX_ATTEMPTS each
    tasks = store.list_tasks(run.run_id)
    assert {t.usage.provider for t in tasks if t.usage} == {"offline"}
    explained = [s for s in _steps(store, run.run_id) if "fallback after openai:" in s]
    assert len(explained) == 4, _steps(store, run.run_id)
    assert all("openai HTTP 500" in s for s in explained)
    assert figures.effect_retries == 0


@pytest.fixture
def marketing_without_fallback(cloud: LocalCloud, llm_fake: ScriptedOpenAI) -> Iterator[None]:
    """The marketing agent with the remote provider alone, then put back."""
    cloud.restart_function("agent-marketing", llm_env(llm_fake, providers=("openai",)))
    yield
    cloud.restart_function("agent-marketing", llm_env(llm_fake))


def test_answers_that_never_fit_the_schema_fail_the_run_with_the_reason(
    cloud: LocalCloud,
    store: FirestoreStore,
    llm_fake: ScriptedOpenAI,
    marketing_without_fallback: None,
    figures: FaultFigures,
) -> None:
    llm_fake.reset(garbage_schemas=("CampaignDrafts",))
    run = wait_for_run(store, start_run_via_api(cloud), timeout_s=90)
    _finish(store, run.run_id, figures)
    drafts = [s for s in llm_fake.served if s.reply == "garbage"]
    figures.faults = len(drafts)

    assert run.status is RunStatus.FAILED
    [reason] = run.failure_reasons
    assert reason.startswith("marketing: openai ")
    assert "answer is not a valid CampaignDrafts" in reason
    assert len(drafts) == 2  # asked once more, then failed for good (no redelivery)
    marketing = store.get_task(run.run_id, "marketing")
    assert marketing is not None and marketing.status is TaskStatus.FAILED
    assert marketing.attempts == 1
    others = [t for t in store.list_tasks(run.run_id) if t.agent != "marketing"]
    assert all(t.status is TaskStatus.SUCCEEDED for t in others)
    assert figures.effect_retries == 0
