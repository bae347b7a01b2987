"""A vendor API replayed in process: documented answers per (method, path), every request kept.

Plugs into httpx as a MockTransport, the boundary our vendor clients expose for tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class ReplayedApi:
    """Answers the first route whose method matches and whose path ends with the given suffix."""

    def __init__(self, routes: list[tuple[str, str, Answer]]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for method, suffix, answer in self.routes:
            if request.method == method and request.url.path.endswith(suffix):
                return answer(request) if callable(answer) else answer
        return httpx.Response(404, json={"error": {"message": f"no route {request.url}"}})

    def client(self) -> httpx.Client:
        """An httpx client whose every request this API answers."""
        return httpx.Client(transport=httpx.MockTransport(self))

    def bodies(self, suffix: str) -> list[Any]:
        """The JSON bodies sent to paths ending with `suffix`, in order (GETs have none)."""
        return [
            json.loads(r.content)
            for r in self.requests
            if r.url.path.endswith(suffix) and r.content
        ]
