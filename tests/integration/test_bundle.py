"""`make bundle`: each zip holds what its function needs, and nothing else is needed to serve.

The agent-finance bundle is the one installed: an agent pulls the most (LangGraph, SciPy,
statsmodels), and its handler imports them only on the first task, so a bundle that merely
imports is not proof that it serves. Its `requirements.txt` alone goes into a fresh virtual
environment, its `main.py` is imported there with an empty environment, and functions-framework
started from that environment answers one Pub/Sub push, in the body shape a push subscription
sends in the cloud, against the emulators.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest

from emulators.bundle import REPO_ROOT, Bundle, build_bundles, bundle_entries, write_zip
from emulators.cloud import emulator_environment
from emulators.processes import ManagedProcess, free_port, http_answers
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.app.orchestrate import start_run
from shared.core.messages import AgentTask, RunRequest, TaskResult
from shared.core.models import TaskStatus, utcnow
from shared.core.topology import TASK_RESULTS_TOPIC, TOPOLOGY
from tests.conftest import Emulators
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration

INSTALL_TIMEOUT_S = 240.0
SERVE_TIMEOUT_S = 60.0
DEV_ONLY = {"pytest", "pytest-timeout", "ruff", "mypy", "duckdb", "python-hcl2", "controlroom"}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Bundle]:
    """The agent-finance and webhooks zips, built once for this module."""
    out = tmp_path_factory.mktemp("bundles")
    return {b.function: b for b in build_bundles(["agent-finance", "webhooks"], out)}


def _requirements(bundle: Bundle) -> dict[str, str]:
    with zipfile.ZipFile(bundle.path) as archive:
        text = archive.read("requirements.txt").decode()
    pins = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(line.count("==") == 1 for line in pins), pins
    return dict(line.split("==") for line in pins)


def test_a_bundle_holds_main_py_the_shared_package_and_pinned_requirements(
    bundles: dict[str, Bundle],
) -> None:
    function = TOPOLOGY.function("agent-finance")

    with zipfile.ZipFile(bundles["agent-finance"].path) as archive:
        names = set(archive.namelist())
        main_py = archive.read("main.py")

    assert main_py == (REPO_ROOT / function.source / "main.py").read_bytes()
    assert {"requirements.txt", "shared/__init__.py", "shared/wiring/functions.py"} <= names
    assert "shared/prompts/finance.yaml" in names and "shared/web/templates/base.html" in names
    assert any(name.startswith("kb/articles/") for name in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for name, version in _requirements(bundles["agent-finance"]).items():
        assert importlib.metadata.version(name) == version


def test_each_bundle_pins_only_what_its_function_imports(bundles: dict[str, Bundle]) -> None:
    agent = _requirements(bundles["agent-finance"])
    webhooks = _requirements(bundles["webhooks"])

    # The agent's graph and forecasts; the webhooks function runs neither.
    assert {"langgraph", "statsmodels", "scipy"} <= set(agent)
    assert not {"langgraph", "statsmodels"} & set(webhooks)
    for pins in (agent, webhooks):
        assert {"functions-framework", "google-cloud-firestore", "google-cloud-pubsub"} <= set(pins)
        assert not DEV_ONLY & set(pins), DEV_ONLY & set(pins)


def test_the_same_sources_give_the_same_zip_bytes(
    bundles: dict[str, Bundle], tmp_path: Path
) -> None:
    bundle = bundles["webhooks"]
    with zipfile.ZipFile(bundle.path) as archive:
        requirements_txt = archive.read("requirements.txt").decode()
    again = tmp_path / "webhooks.zip"

    write_zip(again, bundle_entries(TOPOLOGY.function("webhooks"), requirements_txt))

    assert again.read_bytes() == bundle.path.read_bytes()


def _push_body(task: AgentTask, project: str, message_id: str) -> dict[str, object]:
    """The JSON a Pub/Sub push subscription POSTs to the function's URL."""
    return {
        "message": {
            "data": base64.b64encode(task.model_dump_json().encode()).decode(),
            "attributes": task.attributes(),
            "messageId": message_id,
            "publishTime": "2026-11-16T08:00:00Z",
        },
        "subscription": f"projects/{project}/subscriptions/agent-finance",
        "deliveryAttempt": 1,
    }


def test_the_agent_bundle_installed_alone_serves_a_task(
    bundles: dict[str, Bundle],
    clean_emulators: Emulators,
    store: FirestoreStore,
    bus: PubSubBus,
    tmp_path: Path,
) -> None:
    app, venv = tmp_path / "app", tmp_path / "venv"
    with zipfile.ZipFile(bundles["agent-finance"].path) as archive:
        archive.extractall(app)
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one; no cache outside tmp_path, and no
    # byte-compiling (it would double the time and proves nothing).
    install = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"),
            *("--no-cache-dir", "--no-compile", "-r", str(app / "requirements.txt")),
        ],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-4000:]
    empty_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    imported = subprocess.run(
        [str(python), "-c", "import json, main, shared; print(json.dumps(shared.__file__))"],
        cwd=app,
        env=empty_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr[-4000:]
    assert Path(json.loads(imported.stdout)).is_relative_to(app)

    run_id = f"bundle-{uuid.uuid4().hex[:8]}"
    start_run(
        RunRequest(workflow="weekly_gtm", trigger="manual", run_id=run_id),
        f"m-{run_id}",
        store=store,
        bus=bus,
        clock=utcnow,
    )
    task = AgentTask(run_id=run_id, task_id="finance", agent="finance", workflow="weekly_gtm")
    results = TopicTap(clean_emulators.project, TASK_RESULTS_TOPIC)
    port = free_port()
    server = ManagedProcess(
        "bundle-agent-finance",
        [
            str(venv / "bin" / "functions-framework"),
            f"--source={app / 'main.py'}",
            "--target=on_task",
            "--signature-type=cloudevent",
            "--host=127.0.0.1",
            f"--port={port}",
        ],
        tmp_path / "agent-finance.log",
        {
            **empty_env,
            **emulator_environment(
                clean_emulators.firestore.host, clean_emulators.pubsub.host, clean_emulators.project
            ),
            "K_SERVICE": "agent-finance",
        },
    )
    try:
        server.start()
        server.wait_until(http_answers(f"http://127.0.0.1:{port}/"), SERVE_TIMEOUT_S)

        response = httpx.post(
            f"http://127.0.0.1:{port}/",
            json=_push_body(task, clean_emulators.project, f"push-{run_id}"),
            timeout=SERVE_TIMEOUT_S,
        )

        assert response.status_code == 200, f"{response.text}\n{server.log_tail()}"
        [message] = results.pull(expected=1)
        result = TaskResult.model_validate_json(message.data)
        assert (result.run_id, result.agent, result.status) == (run_id, "finance", "succeeded")
        finance = store.get_task(run_id, "finance")
        assert finance is not None and finance.status is TaskStatus.SUCCEEDED
    finally:
        server.stop()
        results.close()
