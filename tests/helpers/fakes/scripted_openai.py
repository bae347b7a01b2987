"""A scripted OpenAI-compatible server for the fault suite: each distinct prompt meets the
same scripted failures, in order, before a good answer, whatever order agents call in.

Answers follow the documented wire format (tests/helpers/fakes/openai_api.py); a request
asking for a JSON schema gets a valid object for it, from `structured_answers` keyed by schema
name.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tests.helpers.fakes.openai_api import (
    CHAT_PATH,
    answer,
    chat_completion,
    error,
    last_user_message,
)
from tests.helpers.fakes.recording_server import RecordedRequest, RecordingServer, Reply

GOOD_PROSE = "Prose from the fake model."


@dataclass(frozen=True)
class Served:
    """One request the fake answered: when, for which prompt, and how."""

    at: float
    prompt: str
    reply: str  # "answer", or the failure's name


FAILURES: dict[str, Reply] = {
    "429": error(429, "Rate limit reached", retry_after="1"),
    "500": error(500, "The server had an error while processing your request."),
    "timeout": Reply(hang=True),
    "malformed": Reply(body='{"id": "chatcmpl-cut", "choices": [{"ind'),
    "html": Reply(body="<html>502 Bad Gateway</html>", headers={"Content-Type": "text/html"}),
}


class ScriptedOpenAI(RecordingServer):
    """The fake; set `script` (failure names) and `garbage_schemas` between runs."""

    def __init__(self, structured_answers: dict[str, dict[str, Any]]) -> None:
        super().__init__(self._respond)
        self.structured_answers = structured_answers
        self.script: list[str] = []
        # Schemas answered with text that is not the schema, every time.
        self.garbage_schemas: set[str] = set()
        self.served: list[Served] = []
        self._seen: defaultdict[str, int] = defaultdict(int)
        self._guard = threading.Lock()

    @property
    def base_url(self) -> str:
        """The API root an OpenAI client is pointed at."""
        return f"{self.origin}/v1"

    def reset(self, *script: str, garbage_schemas: tuple[str, ...] = ()) -> None:
        """A new script for every prompt from now on."""
        with self._guard:
            self.script = list(script)
            self.garbage_schemas = set(garbage_schemas)
            self.served.clear()
            self._seen.clear()

    def by_prompt(self) -> dict[str, list[Served]]:
        """What each prompt met, in order."""
        grouped: defaultdict[str, list[Served]] = defaultdict(list)
        for served in self.served:
            grouped[served.prompt].append(served)
        return dict(grouped)

    def _respond(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or request.path != CHAT_PATH:
            return error(404, f"no route {request.method} {request.path}")
        body = request.json()
        prompt = last_user_message(request)
        schema = _schema_name(body)
        with self._guard:
            attempt = self._seen[prompt]
            self._seen[prompt] += 1
            step = self.script[attempt] if attempt < len(self.script) else "answer"
            if step == "answer" and schema in self.garbage_schemas:
                step = "garbage"
            self.served.append(Served(time.monotonic(), prompt, step))
        if step in FAILURES:
            return FAILURES[step]
        if step == "garbage":
            return answer("Sure! Here is your campaign: buy now.")
        if schema is not None:
            content = json.dumps(self.structured_answers[schema])
            return Reply(body=chat_completion(content, model=str(body["model"])))
        return Reply(body=chat_completion(GOOD_PROSE, model=str(body["model"])))


def _schema_name(body: dict[str, Any]) -> str | None:
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema":
        return None
    return str(response_format["json_schema"]["name"])
