"""A fake OpenAI-compatible server: `POST /v1/chat/completions` in the documented wire format.

Answers are `chat.completion` objects (choices[].message.content, usage.prompt_tokens /
completion_tokens); errors are `{"error": {...}}` bodies with the status and, for rate
limits, a `Retry-After` header. With nothing queued it echoes the last user message, so a
test can see what the model was sent come back in the answer.
"""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.fakes.recording_server import RecordedRequest, RecordingServer, Reply

CHAT_PATH = "/v1/chat/completions"


def chat_completion(
    content: str, *, model: str = "gpt-4o-mini", prompt_tokens: int = 11, completion_tokens: int = 7
) -> dict[str, Any]:
    """A `chat.completion` object with one choice."""
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": 1_763_280_000,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def answer(content: str, *, prompt_tokens: int = 11, completion_tokens: int = 7) -> Reply:
    """A 200 with one assistant message."""
    return Reply(
        body=chat_completion(
            content, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    )


def error(
    status: int,
    message: str = "fake failure",
    retry_after: str | None = None,
    code: str | None = None,
) -> Reply:
    """An error in OpenAI's shape; `retry_after` becomes the Retry-After header."""
    kind = {429: "rate_limit_exceeded", 400: "invalid_request_error"}.get(status, "server_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": code or kind}}
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status=status, body=body, headers=headers)


def hang() -> Reply:
    """No answer until the server stops (the client's timeout fires)."""
    return Reply(hang=True)


def last_user_message(request: RecordedRequest) -> str:
    """The content of the last user message of a chat request."""
    messages = request.json()["messages"]
    return str(next(m["content"] for m in reversed(messages) if m["role"] == "user"))


def _echo(request: RecordedRequest) -> Reply:
    if request.method != "POST" or request.path != CHAT_PATH:
        return error(404, f"no route {request.method} {request.path}")
    content = last_user_message(request)
    body = chat_completion(content, model=str(request.json()["model"]))
    return Reply(body=body)


class FakeOpenAI(RecordingServer):
    """The fake server; `base_url` is what an OpenAI client is pointed at."""

    def __init__(self) -> None:
        super().__init__(_echo)

    @property
    def base_url(self) -> str:
        """The API root, as OpenAI-compatible servers (vLLM, Ollama) expose it."""
        return f"{self.origin}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat requests received, oldest first."""
        return [json.loads(r.body) for r in self.requests if r.path == CHAT_PATH]
