"""The small LLM interface every provider implements, and what a request and an answer hold.

An agent builds a `CompletionRequest` and calls one of two methods of an `LLM`:

- `complete(request) -> Completion` for prose;
- `structured(request, schema) -> (instance of schema, Completion)` for an answer parsed and
  validated into a pydantic model.

`tier` says what kind of model the task needs ("smart" for analytical prose, "fast" for
classification and short structured answers); configuration maps tiers to model names per
provider, and `agent` lets one agent's tier be mapped differently ("finance.smart").
Every `Completion` carries its usage: tokens, cost in USD, provider, model, and whether it came
from the offline templates or the response cache.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

ModelT = TypeVar("ModelT", bound=BaseModel)
Tier = Literal["smart", "fast"]


class CompletionRequest(BaseModel):
    """A chat request: instructions, the facts to write about, and how to answer offline."""

    model_config = ConfigDict(frozen=True)
    system: str
    prompt: str
    facts: dict[str, Any] = Field(default_factory=dict)
    tier: Tier = "smart"
    # The asking agent, for per-agent model overrides ("finance.smart") and logs.
    agent: str | None = None
    # None leaves the provider's default; part of the cache key.
    temperature: float | None = None
    # What the offline provider renders with the facts for `complete`.
    offline_template: str = "{{ prompt }}"
    # What the offline provider validates into the schema for `structured`; None uses the facts.
    offline_answer: dict[str, Any] | None = None


class Completion(BaseModel):
    """What a provider answered, with its usage (for `structured`, text is the JSON answer)."""

    model_config = ConfigDict(frozen=True)
    text: str
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    offline: bool = False
    # Served from the response cache: nothing was sent, so tokens and cost are zero.
    cached: bool = False
    # Why earlier providers of a fallback chain did not answer ("openai: ..."), oldest first.
    fallback_reasons: tuple[str, ...] = ()


class LLM(Protocol):
    """A chat-completion provider (or a chain of them)."""

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request with prose."""
        ...

    def structured(
        self, request: CompletionRequest, schema: type[ModelT]
    ) -> tuple[ModelT, Completion]:
        """Answer one request with an instance of `schema` (raises LlmOutputError if unusable)."""
        ...
