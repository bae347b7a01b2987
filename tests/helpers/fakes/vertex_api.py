"""A fake Vertex AI endpoint: Gemini `generateContent` in the documented REST wire format.

google-genai with `vertexai=True`, a project, a location and `HttpOptions(base_url=...)` posts
to `{base_url}/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent`.
Answers carry candidates[].content.parts[].text and usageMetadata; errors are google.rpc
Status bodies, a 429 with a `google.rpc.RetryInfo` detail giving `retryDelay`.
With nothing queued it echoes the last user text.
"""

from __future__ import annotations

import re
from typing import Any

from tests.helpers.fakes.recording_server import RecordedRequest, RecordingServer, Reply

GENERATE_PATH = re.compile(
    r"^/v1beta1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):generateContent$"
)
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def generate_response(
    text: str, *, model: str = "gemini-2.5-flash", prompt_tokens: int = 13, output_tokens: int = 5
) -> dict[str, Any]:
    """A GenerateContentResponse with one candidate."""
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP",
                "avgLogprobs": -0.1,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": model,
        "createTime": "2026-11-16T08:00:00.000000Z",
        "responseId": "fake-response-0001",
    }


def answer(text: str, *, prompt_tokens: int = 13, output_tokens: int = 5) -> Reply:
    """A 200 with one candidate."""
    return Reply(
        body=generate_response(text, prompt_tokens=prompt_tokens, output_tokens=output_tokens)
    )


def error(status: int, message: str = "fake failure", retry_delay: str | None = None) -> Reply:
    """A google.rpc.Status error; `retry_delay` (e.g. "1s") adds a RetryInfo detail."""
    details: list[dict[str, Any]] = []
    if retry_delay is not None:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        )
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
            "details": details,
        }
    }
    return Reply(status=status, body=body)


def hang() -> Reply:
    """No answer until the server stops (the client's timeout fires)."""
    return Reply(hang=True)


def user_text(request: RecordedRequest) -> str:
    """The text parts of the request's last user content, joined."""
    contents = request.json()["contents"]
    last = next(c for c in reversed(contents) if c.get("role", "user") == "user")
    return "".join(part.get("text", "") for part in last["parts"])


def _echo(request: RecordedRequest) -> Reply:
    match = GENERATE_PATH.match(request.path)
    if request.method != "POST" or match is None:
        return error(404, f"no route {request.method} {request.path}")
    return Reply(body=generate_response(user_text(request), model=match["model"]))


class FakeVertex(RecordingServer):
    """The fake endpoint; `base_url` goes into google-genai's HttpOptions."""

    def __init__(self) -> None:
        super().__init__(_echo)

    @property
    def base_url(self) -> str:
        """What HttpOptions(base_url=...) is given (the SDK adds the API version)."""
        return f"{self.origin}/"

    def generate_requests(self) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """(path parameters, body) of each generateContent request, oldest first."""
        found = []
        for request in self.requests:
            match = GENERATE_PATH.match(request.path)
            if match is not None:
                found.append((match.groupdict(), request.json()))
        return found
