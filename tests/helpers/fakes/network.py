"""A guard for tests that must not reach the internet: only loopback hosts may be resolved
or connected to; any other attempt is recorded and fails.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class NetworkGuard:
    """Records attempts to reach non-loopback hosts (and makes them fail)."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def check(self, host: Any) -> None:
        """Fail unless `host` is a loopback address."""
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            self.attempts.append(name)
            raise OSError(f"test tried to reach {name!r}; only loopback is allowed")


def guard_loopback_only(monkeypatch: pytest.MonkeyPatch) -> NetworkGuard:
    """Patch name resolution and connects for the rest of the test."""
    guard = NetworkGuard()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address[0])
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return guard
