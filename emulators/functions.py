"""Each function of the topology as its own functions-framework process."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from emulators.processes import ManagedProcess, free_port, http_answers
from shared.core.topology import Function

READY_TIMEOUT_S = 60.0
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunningFunction:
    """A function's process and the URL it serves."""

    function: Function
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        """Base URL of the function."""
        return f"http://127.0.0.1:{self.port}"


def function_process(
    function: Function, env: dict[str, str], log_dir: Path, port: int | None = None
) -> RunningFunction:
    """Describe (not start) the functions-framework process that serves `function`."""
    port = port or free_port()
    functions_framework = str(Path(sys.executable).parent / "functions-framework")
    argv = [
        functions_framework,
        f"--source={REPO_ROOT / function.source / 'main.py'}",
        f"--target={function.entry_point}",
        f"--signature-type={function.signature}",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    child_env = {
        **env,
        "K_SERVICE": function.name,
        "CLOUD_RUN_TIMEOUT_SECONDS": str(function.timeout_s),
        # gunicorn threads: enough for the dispatcher's parallel deliveries and HTTP clients.
        "THREADS": str(max(4, min(function.concurrency, 16))),
        "PYTHONUNBUFFERED": "1",
    }
    process = ManagedProcess(function.name, argv, log_dir / f"{function.name}.log", child_env)
    return RunningFunction(function, port, process)


def start_function(running: RunningFunction) -> RunningFunction:
    """Start the process and wait until it answers HTTP on its port."""
    running.process.start()
    return running


def wait_ready(running: RunningFunction) -> None:
    """Block until the function answers (any HTTP status means its server is up)."""
    running.process.wait_until(http_answers(running.url + "/healthz"), READY_TIMEOUT_S)
