"""The offline LLM provider: deterministic prose rendered from templates and computed facts.

It never calls a network and never invents a figure: every number in its text comes from the
facts it was given. Its output is marked as offline wherever it is shown.
"""

from __future__ import annotations

from shared.llm.templates import render
from shared.llm.types import Completion, CompletionRequest

OFFLINE_MODEL = "offline-template"


def _count_tokens(text: str) -> int:
    # A rough count (about 4 characters a token) so offline runs still show usage figures.
    return max(1, len(text) // 4)


class OfflineLLM:
    """Renders the request's offline template with its facts."""

    provider = "offline"

    def complete(self, request: CompletionRequest) -> Completion:
        """Deterministic text for the request; costs nothing."""
        text = render(request.offline_template, request.facts)
        return Completion(
            text=text,
            provider=self.provider,
            model=OFFLINE_MODEL,
            tokens_in=_count_tokens(request.system + request.prompt),
            tokens_out=_count_tokens(text),
            cost_usd=0.0,
            offline=True,
        )
