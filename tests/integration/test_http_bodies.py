"""Bodies sent without Content-Length (chunked) to the HTTP functions as gunicorn serves them.

A client that announces no size can stream any amount; each function must answer 413 after
reading about its limit instead of holding the whole body in memory first. The sender below
writes 64 KiB chunks and, after each one, looks whether the answer has arrived: a function
that reads the whole body answers only after the last chunk.
"""

from __future__ import annotations

import os
import re
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.functions import RunningFunction, function_process, start_function, wait_ready
from shared.core.topology import TOPOLOGY
from tests.conftest import API_TOKEN, Emulators

pytestmark = pytest.mark.integration

CHUNK = b"x" * (64 * 1024)
BODY_BYTES = 20 * 1024 * 1024
# Loopback socket buffers hold a few MiB the server has not read yet; an answer before
# 8 MiB were written means the function stopped reading near its limit.
ANSWERED_BEFORE_BYTES = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def http_functions(emulators: Emulators) -> Iterator[dict[str, RunningFunction]]:
    log_dir = Path(emulators.log_dir) / "http-bodies"
    log_dir.mkdir(parents=True, exist_ok=True)
    running = {
        name: start_function(function_process(TOPOLOGY.function(name), dict(os.environ), log_dir))
        for name in ("webhooks", "status")
    }
    try:
        for function in running.values():
            wait_ready(function)
        yield running
    finally:
        for function in running.values():
            function.process.stop()


def send_chunked(port: int, path: str, content_type: str) -> tuple[int, int, bytes]:
    """(status, bytes written before the answer arrived, answer body) for a 20 MiB body."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Authorization: Bearer {API_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sent = 0
        try:
            while sent < BODY_BYTES:
                if select.select([sock], [], [], 0.02)[0]:
                    break
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
            else:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still writing
        answer = b""
        while not _complete(answer):
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), sent, body


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(found) and length is not None and len(body) >= int(length.group(1))


@pytest.mark.parametrize(
    ("function", "path", "content_type"),
    [
        ("webhooks", "/webhooks/generic", "application/json"),
        ("webhooks", "/runs", "application/json"),
        ("status", "/signin", "application/x-www-form-urlencoded"),
        ("status", "/api/chat/messages", "application/json"),
        ("status", "/runs/run-1/approvals/send", "application/x-www-form-urlencoded"),
        ("status", "/api/runs/new", "application/json"),
    ],
)
def test_a_chunked_body_over_the_limit_is_refused_without_being_read_whole(
    http_functions: dict[str, RunningFunction],
    function: str,
    path: str,
    content_type: str,
) -> None:
    status, sent, body = send_chunked(http_functions[function].port, path, content_type)

    assert status == 413, body
    assert sent < ANSWERED_BEFORE_BYTES, f"answered after {sent} bytes: the body was read whole"
    assert b"body larger than" in body
