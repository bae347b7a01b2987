"""Chat completions over the official `openai` SDK, for OpenAI or any compatible server.

vLLM, Ollama or LiteLLM are reached through a base URL (e.g. http://localhost:11434/v1).

Structured output uses `response_format={"type": "json_schema", ...}` built by the SDK's own
helper (strict schema). A body that is not a chat completion (cut short, an HTML error page)
is a transient failure like a 5xx. The SDK's retries are off (`max_retries=0`): tenacity in
shared.llm.pipeline is the one retrying, honouring `Retry-After` hints read here.
"""

from __future__ import annotations

import json
from typing import Any

import openai
from openai.lib import type_to_response_format_param
from openai.types.chat import ChatCompletion

from shared.http.client import retry_after_hint
from shared.llm.errors import LlmRequestError, LlmTransientError
from shared.llm.ports import ProviderCall, ProviderReply

OPENAI_BASE_URL = "https://api.openai.com/v1"
# A 429 that is about billing, not rate: waiting does not help.
_NOT_TRANSIENT_CODES = {"insufficient_quota"}
_TRANSIENT_STATUSES = {408, 409, 429}


def openai_client(api_key: str | None, base_url: str | None, timeout_s: float) -> openai.OpenAI:
    """A client with SDK retries disabled; local servers accept any key, so one is made up."""
    return openai.OpenAI(
        api_key=api_key or "unused-by-local-servers",
        base_url=base_url or OPENAI_BASE_URL,
        timeout=timeout_s,
        max_retries=0,
    )


def _status_error(exc: openai.APIStatusError) -> LlmTransientError | LlmRequestError:
    message = f"openai HTTP {exc.status_code}: {exc.message}"
    if exc.code in _NOT_TRANSIENT_CODES:
        return LlmRequestError(message)
    if exc.status_code in _TRANSIENT_STATUSES or exc.status_code >= 500:
        return LlmTransientError(message, retry_after_hint(exc.response.headers))
    return LlmRequestError(message)


class OpenAIProvider:
    """The ChatProvider for OpenAI-compatible chat completion APIs."""

    name = "openai"

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client

    def chat(self, call: ProviderCall) -> ProviderReply:
        """One `POST /chat/completions`."""
        options: dict[str, Any] = {}
        if call.schema is not None:
            options["response_format"] = type_to_response_format_param(call.schema)
        if call.temperature is not None:
            options["temperature"] = call.temperature
        messages: list[Any] = []
        if call.system:
            messages.append({"role": "system", "content": call.system})
        messages.append({"role": "user", "content": call.prompt})
        try:
            completion = self.client.chat.completions.create(
                model=call.model, messages=messages, timeout=call.timeout_s, **options
            )
        except openai.APIStatusError as exc:
            raise _status_error(exc) from exc
        except openai.APIConnectionError as exc:  # includes APITimeoutError
            raise LlmTransientError(f"openai: {exc.message}") from exc
        except json.JSONDecodeError as exc:
            # A proxy or an overloaded server cut the body short: asking again may work.
            raise LlmTransientError(f"openai: malformed response body: {exc}") from exc
        if not isinstance(completion, ChatCompletion):
            # A 2xx that is not JSON at all (an HTML error page) comes back as text.
            raise LlmTransientError(
                f"openai: malformed response body: not a chat completion ({str(completion)[:80]!r})"
            )
        usage = completion.usage
        tokens_in = usage.prompt_tokens if usage else 0
        tokens_out = usage.completion_tokens if usage else 0
        if not completion.choices:
            return ProviderReply(None, tokens_in, tokens_out, "no choices")
        choice = completion.choices[0]
        if choice.message.refusal:
            return ProviderReply(None, tokens_in, tokens_out, f"refusal: {choice.message.refusal}")
        return ProviderReply(choice.message.content, tokens_in, tokens_out, choice.finish_reason)
