"""free_port hands out a port that can be bound."""

from __future__ import annotations

import socket

from emulators.processes import free_port


def test_free_port_can_be_bound() -> None:
    port = free_port()

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        bound = sock.getsockname()[1]

    assert 1024 <= port <= 65535
    assert bound == port


def test_free_port_never_hands_out_the_same_port_twice() -> None:
    ports = [free_port() for _ in range(200)]

    assert len(set(ports)) == len(ports)
