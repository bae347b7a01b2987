"""The offline LLM provider: deterministic prose rendered from templates and computed facts.

It never calls a network and never invents a figure: every number in its text comes from the
facts it was given. Its output is marked as offline wherever it is shown. Structured answers
are the request's `offline_answer` (or else its facts) validated into the schema.
"""

from __future__ import annotations

from pydantic import ValidationError

from shared.llm.errors import LlmOutputError
from shared.llm.pipeline import llm_span, note_usage
from shared.llm.templates import render
from shared.llm.types import Completion, CompletionRequest, ModelT

OFFLINE_MODEL = "offline-template"


def _count_tokens(text: str) -> int:
    # A rough count (about 4 characters a token) so offline runs still show usage figures.
    return max(1, len(text) // 4)


class OfflineLLM:
    """Renders the request's offline template with its facts."""

    provider = "offline"

    def complete(self, request: CompletionRequest) -> Completion:
        """Deterministic text for the request; costs nothing."""
        with llm_span(self.provider, request, OFFLINE_MODEL) as current:
            completion = self._completion(request, render(request.offline_template, request.facts))
            note_usage(current, completion)
            return completion

    def structured(
        self, request: CompletionRequest, schema: type[ModelT]
    ) -> tuple[ModelT, Completion]:
        """The request's offline answer (or its facts) as a `schema` instance; costs nothing."""
        answer = request.offline_answer if request.offline_answer is not None else request.facts
        with llm_span(self.provider, request, OFFLINE_MODEL) as current:
            try:
                value = schema.model_validate(answer)
            except ValidationError as exc:
                raise LlmOutputError(
                    f"offline answer is not a valid {schema.__name__}: {exc.error_count()} error(s)"
                ) from exc
            completion = self._completion(request, value.model_dump_json())
            note_usage(current, completion)
            return value, completion

    def _completion(self, request: CompletionRequest, text: str) -> Completion:
        return Completion(
            text=text,
            provider=self.provider,
            model=OFFLINE_MODEL,
            tokens_in=_count_tokens(request.system + request.prompt),
            tokens_out=_count_tokens(text),
            cost_usd=0.0,
            offline=True,
        )
