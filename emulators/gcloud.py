"""The official Firestore and Pub/Sub emulators from the Google Cloud CLI."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from emulators.processes import ManagedProcess, free_port, http_answers

READY_TIMEOUT_S = 60.0


@dataclass
class RunningEmulator:
    """An emulator process and the host:port its clients use."""

    name: str
    host: str
    process: ManagedProcess

    def stop(self) -> None:
        """Stop the emulator and its Java child."""
        self.process.stop()


def _gcloud() -> str:
    path = shutil.which("gcloud")
    if path is None:
        raise RuntimeError(
            "the Google Cloud CLI (gcloud) is not on PATH; it provides the emulators"
        )
    return path


def start_firestore(
    project: str, log_dir: Path, port: int | None = None, rules: Path | None = None
) -> RunningEmulator:
    """Start the Firestore emulator on a free port and wait until it answers; with `rules`,
    client requests (not the admin's) are checked against that security rules file."""
    host = f"127.0.0.1:{port or free_port()}"
    argv = [_gcloud(), "emulators", "firestore", "start", f"--host-port={host}", "--quiet"]
    if rules is not None:
        argv.append(f"--rules={rules}")
    process = ManagedProcess(
        "firestore-emulator", argv, log_dir / "firestore.log", dict(os.environ)
    )
    process.start().wait_until(http_answers(f"http://{host}/", expect_ok=True), READY_TIMEOUT_S)
    return RunningEmulator("firestore", host, process)


def start_pubsub(project: str, log_dir: Path, port: int | None = None) -> RunningEmulator:
    """Start the Pub/Sub emulator on a free port and wait until it answers."""
    host = f"127.0.0.1:{port or free_port()}"
    argv = [
        _gcloud(), "beta", "emulators", "pubsub", "start",
        f"--host-port={host}", f"--project={project}", "--quiet",
    ]  # fmt: skip
    process = ManagedProcess("pubsub-emulator", argv, log_dir / "pubsub.log", dict(os.environ))
    process.start().wait_until(http_answers(f"http://{host}/", expect_ok=True), READY_TIMEOUT_S)
    return RunningEmulator("pubsub", host, process)


# A transaction left open by a process still winding down holds its locks until the
# emulator's lock timeout; a busy machine stretches that.
RESET_TIMEOUT_S = 30.0


def reset_firestore(host: str, project: str) -> None:
    """Delete every document of the project (the emulator's own reset endpoint)."""
    url = f"http://{host}/emulator/v1/projects/{project}/databases/(default)/documents"
    deadline = time.monotonic() + RESET_TIMEOUT_S
    while True:
        response = httpx.delete(url, timeout=10)
        if response.status_code != 409:  # 409 while a transaction still holds a lock
            response.raise_for_status()
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    raise RuntimeError(f"could not reset Firestore: {response.status_code} {response.text}")
