"""The port a remote chat provider implements (OpenAI-compatible servers, Vertex AI Gemini).

A provider does one HTTP call with its SDK's own retries switched off and translates the
vendor's failures into the LLM error types; masking, caching, retries, fallbacks and cost
are done around it, the same way for every vendor (shared.llm.pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class ProviderCall:
    """One call: the model, the (already masked) texts, and how to answer."""

    model: str
    system: str
    prompt: str
    # When set, the answer must be JSON for this model (the vendor's structured output).
    schema: type[BaseModel] | None
    temperature: float | None
    timeout_s: float


@dataclass(frozen=True)
class ProviderReply:
    """The answer text (None when the model gave none) and the tokens billed for it."""

    text: str | None
    tokens_in: int
    tokens_out: int
    finish_reason: str | None = None


class ChatProvider(Protocol):
    """A remote chat API."""

    name: str

    def chat(self, call: ProviderCall) -> ProviderReply:
        """One attempt; raises LlmTransientError (may retry) or LlmRequestError (will not)."""
        ...
