"""The small LLM interface every provider implements."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class CompletionRequest(BaseModel):
    """A chat request: instructions, the facts to write about, and an offline template."""

    model_config = ConfigDict(frozen=True)
    system: str
    prompt: str
    facts: dict[str, Any] = Field(default_factory=dict)
    tier: Literal["smart", "fast"] = "smart"
    offline_template: str = "{{ prompt }}"


class Completion(BaseModel):
    """What a provider answered, with its usage."""

    model_config = ConfigDict(frozen=True)
    text: str
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    offline: bool = False


class LLM(Protocol):
    """A chat-completion provider."""

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request."""
        ...
