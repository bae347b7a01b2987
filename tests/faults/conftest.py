"""Fault-injection tier: the local cloud on its own Pub/Sub emulator (so restarting it touches
no other test), with a size knob and figures for `make reliability`.

CONTROLROOM_FAULT_RUNS sets how many runs the kill cases drive (default 5, small enough for
`make test`), CONTROLROOM_FAULT_SEED where their kills land; CONTROLROOM_RELIABILITY_DIR, when
set, is where each case writes its figures as JSON for bench/reliability.py to add up.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from emulators.cloud import LocalCloud, LocalCloudConfig
from emulators.gcloud import start_pubsub
from shared.adapters.firestore_store import FirestoreStore
from shared.core.models import RunStatus
from tests.conftest import API_TOKEN, Emulators, _clear_settings_caches
from tests.helpers.fakes.scripted_openai import ScriptedOpenAI

# The one place the fault suite's size is read: `make reliability` raises it.
FAULT_RUNS = int(os.environ.get("CONTROLROOM_FAULT_RUNS", "5"))
RELIABILITY_DIR = os.environ.get("CONTROLROOM_RELIABILITY_DIR")
SEED = int(os.environ.get("CONTROLROOM_FAULT_SEED", "20261122"))


@dataclass
class FaultFigures:
    """What one fault case did and what it found; written for the reliability table."""

    case: str
    runs: int = 0
    runs_finished: int = 0
    kills: int = 0
    restarts: int = 0
    faults: int = 0
    runs_failed: int = 0  # finished as failed, with the reason on record
    messages_lost: int = 0
    # Seen twice at the outside system (an email in the SMTP sink, a notice, a sheet export).
    duplicate_effects: int = 0
    # Effect calls repeated after a crash between the call and its "done" mark (the window
    # shared/app/run_effects.py documents); harmless where the outside system is idempotent.
    effect_retries: int = 0
    notes: list[str] = field(default_factory=list)

    def survived(self) -> int:
        """Faults injected in runs that all finished with nothing lost and nothing twice."""
        clean = self.runs_finished == self.runs and not self.messages_lost
        return self.faults if clean and not self.duplicate_effects else 0


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[FaultFigures]:
    """The case's figures; saved after the test (passed or not) when a report is wanted."""
    found = FaultFigures(case=request.node.name)
    yield found
    if RELIABILITY_DIR:
        passed = not getattr(request.node, "fault_failed", False)
        record = {**asdict(found), "survived": found.survived() if passed else 0, "passed": passed}
        path = Path(RELIABILITY_DIR) / f"fault-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(record))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Mark a failed test so its figures say so."""
    report = yield
    if call.when == "call" and call.excinfo is not None:
        item.fault_failed = True  # type: ignore[attr-defined]
    return report


def running_fault_cloud(
    emulators: Emulators, tmp_path_factory: pytest.TempPathFactory, **config: object
) -> Iterator[LocalCloud]:
    """A local cloud on the session's Firestore and a Pub/Sub emulator of its own."""
    saved = dict(os.environ)
    workdir = tmp_path_factory.mktemp("fault-cloud")
    pubsub = start_pubsub(emulators.project, workdir / "logs")
    local: LocalCloud | None = None
    try:
        settings = LocalCloudConfig(
            project=emulators.project,
            api_token=API_TOKEN,
            workdir=workdir,
            scheduler=False,
            **config,  # type: ignore[arg-type]
        )
        local = LocalCloud(settings).start(emulators=(emulators.firestore, pubsub))
        yield local
    finally:
        if local is not None:
            local.stop()
            if local.pubsub is not None:
                local.pubsub.stop()  # a restart replaced the emulator this cloud was given
        pubsub.stop()
        # The cloud pointed this process at its own Pub/Sub emulator: point it back.
        os.environ.clear()
        os.environ.update(saved)
        _clear_settings_caches()


WINBACK_EMAIL = {"subject": "We miss you", "body": "Come back for 20% off."}
AGENT_FUNCTIONS = ("agent-marketing", "agent-finance", "agent-insights", "agent-support")


def llm_env(
    fake: ScriptedOpenAI, providers: tuple[str, ...] = ("openai", "offline")
) -> dict[str, str]:
    """Settings that point an agent at the fake provider: short timeouts, no response cache."""
    return {
        "CONTROLROOM_LLM_PROVIDERS": json.dumps(list(providers)),
        "CONTROLROOM_LLM_OPENAI_BASE_URL": fake.base_url,
        "CONTROLROOM_LLM_TIMEOUT_S": "1",
        "CONTROLROOM_LLM_MAX_ATTEMPTS": "5",
        "CONTROLROOM_LLM_MAX_WAIT_S": "1",
        "CONTROLROOM_LLM_CACHE_TTL_S": "0",
    }


@pytest.fixture(scope="package")
def llm_fake() -> Iterator[ScriptedOpenAI]:
    """The scripted OpenAI-compatible provider every agent of the fault cloud calls."""
    drafts = {
        "brief": "Shift budget toward email.",
        "subject_a": "Back in stock",
        "subject_b": "We saved you a seat",
        "email_body": "Hello again.",
    }
    fake = ScriptedOpenAI({"CampaignDrafts": drafts, "WinbackEmail": WINBACK_EMAIL})
    with fake:
        yield fake


@pytest.fixture(scope="package")
def cloud(
    emulators: Emulators, tmp_path_factory: pytest.TempPathFactory, llm_fake: ScriptedOpenAI
) -> Iterator[LocalCloud]:
    """The fault cloud, shared by the suite's modules; agents ask the fake provider."""
    env = {name: llm_env(llm_fake) for name in AGENT_FUNCTIONS}
    yield from running_fault_cloud(emulators, tmp_path_factory, function_env=env)


@pytest.fixture
def store(cloud: LocalCloud, emulators: Emulators) -> FirestoreStore:
    """The store, emptied before the test (and the SMTP sink with it)."""
    emulators.reset()
    if cloud.smtp is not None:
        cloud.smtp.clear()
    return FirestoreStore(emulators.project)


def effect_repeats(store: FirestoreStore, run_id: str) -> int:
    """How many times a run's outside effects (artifacts, announcement, export) were called
    beyond once: every attempt past the first of a record that ended done."""
    repeats = 0
    for doc in store.client.collection("runs").document(run_id).collection("effects").stream():
        record = doc.to_dict() or {}
        if record.get("status") == "done":
            repeats += int(record.get("attempts", 1)) - 1
    return repeats


def repeated_effects(store: FirestoreStore, run_id: str) -> list[str]:
    """The run's effects called more than once, as "step x attempts"."""
    repeated = []
    for doc in store.client.collection("runs").document(run_id).collection("effects").stream():
        record = doc.to_dict() or {}
        if record.get("status") == "done" and int(record.get("attempts", 1)) > 1:
            repeated.append(f"{run_id} {doc.id} x{record['attempts']}")
    return repeated


def effects_done(store: FirestoreStore, run_id: str) -> set[str]:
    """The run's effects that are marked done."""
    docs = store.client.collection("runs").document(run_id).collection("effects").stream()
    return {d.id for d in docs if (d.to_dict() or {}).get("status") == "done"}


def finished(store: FirestoreStore, run_ids: list[str]) -> list[str]:
    """The runs among `run_ids` that reached a terminal status."""
    done = []
    for run_id in run_ids:
        run = store.get_run(run_id)
        if run is not None and run.status.terminal:
            done.append(run_id)
    return done


def explained(store: FirestoreStore, run_id: str) -> bool:
    """A succeeded run, or a failed one whose reason is on the record."""
    run = store.get_run(run_id)
    assert run is not None
    return run.status is RunStatus.SUCCEEDED or bool(run.failure_reasons)
