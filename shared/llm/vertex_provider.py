"""Gemini on Vertex AI over the official `google-genai` SDK (`vertexai=True`).

Structured output uses `response_mime_type="application/json"` with `response_schema` (the
SDK turns the pydantic model into Vertex's schema). google-genai makes a single attempt
unless `HttpOptions.retry_options` is set, so it is left unset: tenacity in
shared.llm.pipeline retries, honouring the `google.rpc.RetryInfo` `retryDelay` read here.

Credentials: Application Default Credentials unless some are passed. A custom `base_url`
(a private endpoint, a proxy, a test server) keeps the usual path
`v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import google.auth.credentials
import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from shared.http.client import retry_after_hint
from shared.llm.errors import LlmRequestError, LlmTransientError
from shared.llm.ports import ProviderCall, ProviderReply

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_TRANSIENT_STATUSES = {408, 409, 429}


def _transport_errors() -> tuple[type[Exception], ...]:
    # google-genai sends with httpx2 when it is installed, else httpx; both can surface.
    errors: list[type[Exception]] = [httpx.TransportError]
    try:
        import httpx2
    except ImportError:
        return tuple(errors)
    errors.append(httpx2.TransportError)
    return tuple(errors)


TRANSPORT_ERRORS = _transport_errors()


def vertex_client(
    project: str,
    location: str,
    base_url: str | None = None,
    credentials: google.auth.credentials.Credentials | None = None,
) -> genai.Client:
    """A Vertex AI client; nothing is fetched (credentials included) until the first call."""
    http_options = genai_types.HttpOptions(base_url=base_url) if base_url else None
    return genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=credentials,
        http_options=http_options,
    )


def retry_delay_s(error_body: Any) -> float | None:
    """The `retryDelay` of a google.rpc.RetryInfo detail in an error body (e.g. "1.5s")."""
    if not isinstance(error_body, Mapping):
        return None
    error = error_body.get("error", error_body)
    details = error.get("details") if isinstance(error, Mapping) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, Mapping) and detail.get("@type") == RETRY_INFO:
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _api_error(exc: genai_errors.APIError) -> LlmTransientError | LlmRequestError:
    message = f"vertex HTTP {exc.code} {exc.status}: {exc.message}"
    if exc.code in _TRANSIENT_STATUSES or exc.code >= 500:
        hint = retry_delay_s(exc.details)
        if hint is None and exc.response is not None:
            hint = retry_after_hint(exc.response.headers)
        return LlmTransientError(message, hint)
    return LlmRequestError(message)


class VertexProvider:
    """The ChatProvider for Gemini models on Vertex AI."""

    name = "vertex"

    def __init__(self, client: genai.Client) -> None:
        self.client = client

    def chat(self, call: ProviderCall) -> ProviderReply:
        """One `generateContent` call."""
        config = genai_types.GenerateContentConfig(
            system_instruction=call.system or None,
            temperature=call.temperature,
            http_options=genai_types.HttpOptions(timeout=int(call.timeout_s * 1000)),
        )
        if call.schema is not None:
            config.response_mime_type = "application/json"
            config.response_schema = call.schema
        try:
            response = self.client.models.generate_content(
                model=call.model, contents=call.prompt, config=config
            )
        except genai_errors.APIError as exc:
            raise _api_error(exc) from exc
        except TRANSPORT_ERRORS as exc:
            raise LlmTransientError(f"vertex: {type(exc).__name__}: {exc}") from exc
        usage = response.usage_metadata
        tokens_in = (usage.prompt_token_count or 0) if usage else 0
        # Gemini bills thinking tokens as output tokens.
        tokens_out = (
            (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0) if usage else 0
        )
        candidates = response.candidates or []
        finish = candidates[0].finish_reason if candidates else None
        reason = finish.value if finish is not None else "no candidates"
        return ProviderReply(_text_of(response), tokens_in, tokens_out, reason)


def _text_of(response: genai_types.GenerateContentResponse) -> str | None:
    # The text parts of the first candidate (thought parts excluded), as response.text does,
    # without its warnings about non-text parts.
    candidates = response.candidates or []
    content = candidates[0].content if candidates else None
    parts = (content.parts or []) if content else []
    texts = [part.text for part in parts if part.text is not None and not part.thought]
    return "".join(texts) if texts else None
