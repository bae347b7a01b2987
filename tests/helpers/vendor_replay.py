"""Replaying recorded vendor responses at the HTTP transport boundary (httpx.MockTransport)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

PAYLOADS = Path(__file__).resolve().parents[1] / "unit" / "payloads" / "vendors"


def payload(name: str) -> Any:
    """A recorded vendor response body."""
    return json.loads((PAYLOADS / name).read_text())


class Replay:
    """Answers queued responses (or raises queued errors) in order; keeps every request."""

    def __init__(self, *outcomes: httpx.Response | Exception) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def client(self) -> httpx.Client:
        """An httpx client whose transport is this replay."""
        return httpx.Client(transport=httpx.MockTransport(self))
