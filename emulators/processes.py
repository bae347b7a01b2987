"""Child processes of the local cloud: started in their own process group, always stopped.

gcloud's emulator commands are wrappers that spawn a Java child, so stopping means
signalling the whole group. Every process started here is also stopped at interpreter exit
and on SIGTERM, so an interrupted test run leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import httpx

_live: set[ManagedProcess] = set()
_live_lock = threading.Lock()


_handed_out: set[int] = set()
_ports_lock = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now and that this process has not
    handed out before: the OS may give the same free port twice in a row, and two functions
    told the same port leave one unable to bind while the other answers its readiness check
    (seen once: a local cloud's supervisor-segments never served, its messages went astray)."""
    with _ports_lock:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port: int = sock.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port


class ManagedProcess:
    """A child process group with a log file, a readiness check and a reliable stop."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        """Spawn the process in a new session (its own process group)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            start_new_session=True,
        )
        log.close()
        with _live_lock:
            _live.add(self)
        return self

    @property
    def running(self) -> bool:
        """Whether the process is still alive."""
        return self.popen is not None and self.popen.poll() is None

    def wait_until(self, ready: Callable[[], bool], timeout_s: float) -> None:
        """Poll `ready` until it holds; fail with the log's tail on early exit or timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the process wrote."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the whole group at once, as a crash would."""
        self._signal_group(signal.SIGKILL)
        self._reap(5)

    def pause(self) -> None:
        """SIGSTOP the group: it keeps its state and sockets and does nothing until resumed."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the group after `pause`."""
        self._signal_group(signal.SIGCONT)

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after the grace period."""
        if self.popen is None:
            return
        self._signal_group(signal.SIGTERM)
        if not self._reap(grace_s):
            self._signal_group(signal.SIGKILL)
            self._reap(5)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.popen is None:
            return
        # The group may hold children (gcloud's Java) even after the leader exited.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def _reap(self, timeout_s: float) -> bool:
        assert self.popen is not None
        try:
            self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        deadline = time.monotonic() + timeout_s
        while _group_alive(self.popen.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _group_alive(self.popen.pid):
            return False
        with _live_lock:
            _live.discard(self)
        return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def http_answers(url: str, expect_ok: bool = False) -> Callable[[], bool]:
    """A readiness check: the URL answers HTTP (with a 2xx when expect_ok)."""

    def check() -> bool:
        try:
            response = httpx.get(url, timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.is_success or not expect_ok

    return check


def stop_all() -> None:
    """Stop every process this interpreter started that is still alive."""
    with _live_lock:
        live = list(_live)
    for process in live:
        process.stop(grace_s=3)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
if threading.current_thread() is threading.main_thread():
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, _on_sigterm)
