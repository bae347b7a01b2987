"""What every remote call goes through, whichever vendor answers it.

    FallbackLLM: the first provider of the chain that gives a usable answer wins
      └── ProviderLLM (one per remote provider)
            mask PII → cache lookup → ChatProvider.chat with tenacity retries and a
            per-call timeout → restore PII → parse (structured) → cost → cache store

Retries: a transient failure (LlmTransientError) is retried up to `max_attempts` times,
waiting what the server asked for (Retry-After, RetryInfo) or else an exponential backoff
with jitter; a hint longer than `max_wait_s` ends the provider's turn at once so the chain
moves on. An unusable answer (empty, refused, not the schema) is asked for once more.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import tenacity
from opentelemetry.trace import Span, SpanKind
from pydantic import BaseModel, ValidationError

from shared.core.models import utcnow
from shared.core.pii import PiiMask
from shared.core.tracing import span
from shared.llm.cache import CachedAnswer, LlmCache, cache_key
from shared.llm.errors import LlmError, LlmOutputError, LlmTransientError, LlmUnavailableError
from shared.llm.ports import ChatProvider, ProviderCall, ProviderReply
from shared.llm.pricing import ModelPrice, cost_usd
from shared.llm.tiers import check_model_map, resolve_model
from shared.llm.types import LLM, Completion, CompletionRequest, ModelT

logger = logging.getLogger(__name__)

T = TypeVar("T")
OUTPUT_ATTEMPTS = 2
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@dataclass(frozen=True)
class RetryPolicy:
    """How one provider's transient failures are retried."""

    max_attempts: int = 3
    initial_wait_s: float = 1.0
    max_wait_s: float = 20.0


def parse_json_answer(schema: type[ModelT], text: str) -> ModelT:
    """The answer validated into `schema` (a ```json fence around it is tolerated)."""
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise LlmOutputError(
            f"answer is not a valid {schema.__name__}: {exc.error_count()} error(s), "
            f"first at {where}: {first['msg']}"
        ) from exc


def _text(text: str) -> str:
    return text


def _hint(state: tenacity.RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return error.retry_after_s if isinstance(error, LlmTransientError) else None


class ProviderLLM:
    """One remote provider behind masking, the cache, retries and cost accounting."""

    def __init__(
        self,
        chat: ChatProvider,
        models: Mapping[str, str],
        *,
        prices: Mapping[str, ModelPrice],
        timeout_s: float,
        retry: RetryPolicy | None = None,
        mask_pii: bool = True,
        cache: LlmCache | None = None,
        cache_ttl_s: float = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        check_model_map(chat.name, models)
        self.provider = chat.name
        self._chat = chat
        self._models = dict(models)
        self._prices = dict(prices)
        self._timeout_s = timeout_s
        self._retry = retry or RetryPolicy()
        self._mask_pii = mask_pii
        self._cache = cache if cache_ttl_s > 0 else None
        self._cache_ttl = timedelta(seconds=cache_ttl_s)
        self._sleep = sleep
        self._clock = clock
        self._backoff = tenacity.wait_exponential_jitter(
            initial=self._retry.initial_wait_s, max=self._retry.max_wait_s
        )

    def complete(self, request: CompletionRequest) -> Completion:
        """Prose from this provider."""
        return self._answer(request, None, _text)[1]

    def structured(
        self, request: CompletionRequest, schema: type[ModelT]
    ) -> tuple[ModelT, Completion]:
        """An instance of `schema` from this provider's structured output."""
        return self._answer(request, schema, lambda text: parse_json_answer(schema, text))

    def _answer(
        self,
        request: CompletionRequest,
        schema: type[BaseModel] | None,
        parse: Callable[[str], T],
    ) -> tuple[T, Completion]:
        model = resolve_model(self._models, request.tier, request.agent)
        with llm_span(self.provider, request, model) as current:
            value, completion = self._answer_with(model, request, schema, parse)
            note_usage(current, completion)
            return value, completion

    def _answer_with(
        self,
        model: str,
        request: CompletionRequest,
        schema: type[BaseModel] | None,
        parse: Callable[[str], T],
    ) -> tuple[T, Completion]:
        mask = PiiMask() if self._mask_pii else None
        system = mask.mask(request.system) if mask else request.system
        prompt = mask.mask(request.prompt) if mask else request.prompt
        restore = mask.restore if mask else _text
        key = cache_key(
            provider=self.provider,
            model=model,
            system=system,
            prompt=prompt,
            schema=schema.model_json_schema() if schema else None,
            temperature=request.temperature,
        )
        hit = self._cached(key, parse, restore, model)
        if hit is not None:
            return hit
        call = ProviderCall(model, system, prompt, schema, request.temperature, self._timeout_s)
        value, completion, reply = self._ask(call, parse, restore)
        self._store(key, reply, model)
        logger.info(
            "LLM call %s %s (%s): %d tokens in, %d out, $%.6f",
            self.provider,
            model,
            request.agent or "-",
            completion.tokens_in,
            completion.tokens_out,
            completion.cost_usd,
        )
        return value, completion

    def _ask(
        self, call: ProviderCall, parse: Callable[[str], T], restore: Callable[[str], str]
    ) -> tuple[T, Completion, ProviderReply]:
        """Call (with retries) until the answer parses, at most OUTPUT_ATTEMPTS times."""
        tokens_in = tokens_out = 0
        cost = 0.0
        problem = ""
        for _ in range(OUTPUT_ATTEMPTS):
            reply = self._call(call)
            tokens_in += reply.tokens_in
            tokens_out += reply.tokens_out
            cost = cost_usd(self._prices, call.model, tokens_in, tokens_out)
            if reply.text is None or not reply.text.strip():
                problem = f"{self.provider} {call.model} gave no answer ({reply.finish_reason})"
                logger.warning("unusable LLM answer: %s", problem)
                continue
            text = restore(reply.text)
            try:
                value = parse(text)
            except LlmOutputError as exc:
                problem = f"{self.provider} {call.model}: {exc}"
                logger.warning("unusable LLM answer: %s", problem)
                continue
            completion = Completion(
                text=text,
                provider=self.provider,
                model=call.model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost_usd=cost,
            )
            return value, completion, reply
        raise LlmOutputError(problem, tokens_in, tokens_out, cost)

    def _cached(
        self,
        key: str,
        parse: Callable[[str], T],
        restore: Callable[[str], str],
        model: str,
    ) -> tuple[T, Completion] | None:
        if self._cache is None:
            return None
        hit = self._cache.get(key, self._clock())
        if hit is None:
            return None
        text = restore(hit.text)
        try:
            value = parse(text)
        except LlmOutputError as exc:
            # Validators beyond the JSON schema may have changed since it was stored.
            logger.warning("ignoring a cached LLM answer: %s", exc)
            return None
        completion = Completion(
            text=text,
            provider=self.provider,
            model=model,
            tokens_in=0,
            tokens_out=0,
            cost_usd=0.0,
            cached=True,
        )
        return value, completion

    def _store(self, key: str, reply: ProviderReply, model: str) -> None:
        if self._cache is None or reply.text is None:
            return
        now = self._clock()
        entry = CachedAnswer(
            text=reply.text,
            provider=self.provider,
            model=model,
            tokens_in=reply.tokens_in,
            tokens_out=reply.tokens_out,
            created_at=now,
            expires_at=now + self._cache_ttl,
        )
        self._cache.put(key, entry)

    def _call(self, call: ProviderCall) -> ProviderReply:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(LlmTransientError),
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._chat.chat, call)

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self._retry.max_attempts:
            return True
        hint = _hint(state)
        if hint is not None and hint > self._retry.max_wait_s:
            logger.warning(
                "%s asks to wait %.1fs, longer than %.1fs: giving up on it",
                self.provider,
                hint,
                self._retry.max_wait_s,
            )
            return True
        return False

    def _wait(self, state: tenacity.RetryCallState) -> float:
        hint = _hint(state)
        return hint if hint is not None else self._backoff(state)

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "%s call %d failed (%s); retrying in %.2fs",
            self.provider,
            state.attempt_number,
            error,
            wait,
        )


def llm_span(provider: str, request: CompletionRequest, model: str) -> AbstractContextManager[Span]:
    """The span of one LLM call (never its prompt: spans leave the process like logs)."""
    return span(
        f"llm {provider}",
        kind=SpanKind.CLIENT,
        attributes={
            "gen_ai.system": provider,
            "gen_ai.request.model": model,
            "controlroom.llm.tier": request.tier,
            "controlroom.agent": request.agent,
        },
    )


def note_usage(current: Span, completion: Completion) -> None:
    """Tokens, cost and cache use of an answered call, on its span."""
    current.set_attributes(
        {
            "gen_ai.usage.input_tokens": completion.tokens_in,
            "gen_ai.usage.output_tokens": completion.tokens_out,
            "controlroom.llm.cost_usd": completion.cost_usd,
            "controlroom.llm.cached": completion.cached,
        }
    )


def _name(llm: LLM) -> str:
    return str(getattr(llm, "provider", type(llm).__name__))


class FallbackLLM:
    """Asks each LLM of a chain in turn; the first usable answer wins.

    Usage spent on unusable answers of earlier providers is added to the winning
    completion, so cost accounting stays complete, and why each of them failed is kept on it
    (`fallback_reasons`), so the task's record says why a fallback answered.
    """

    def __init__(self, chain: Sequence[LLM]) -> None:
        if not chain:
            raise ValueError("a fallback chain needs at least one LLM")
        self.chain = list(chain)
        self.provider = "+".join(_name(llm) for llm in self.chain)

    def complete(self, request: CompletionRequest) -> Completion:
        """Prose from the first provider that gives it."""
        return self._first(lambda llm: (None, llm.complete(request)))[1]

    def structured(
        self, request: CompletionRequest, schema: type[ModelT]
    ) -> tuple[ModelT, Completion]:
        """A `schema` instance from the first provider that gives a valid one."""
        return self._first(lambda llm: llm.structured(request, schema))

    def _first(self, ask: Callable[[LLM], tuple[T, Completion]]) -> tuple[T, Completion]:
        failures: list[str] = []
        transient = False
        last: LlmError | None = None
        spent_in = spent_out = 0
        spent_usd = 0.0
        for llm in self.chain:
            try:
                value, completion = ask(llm)
            except LlmError as exc:
                last = exc
                transient = transient or isinstance(exc, LlmTransientError | LlmUnavailableError)
                if isinstance(exc, LlmOutputError):
                    spent_in, spent_out = spent_in + exc.tokens_in, spent_out + exc.tokens_out
                    spent_usd += exc.cost_usd
                failures.append(f"{_name(llm)}: {exc}")
                logger.warning("LLM provider %s failed, trying the next: %s", _name(llm), exc)
                continue
            if spent_in or spent_out or spent_usd:
                completion = completion.model_copy(
                    update={
                        "tokens_in": completion.tokens_in + spent_in,
                        "tokens_out": completion.tokens_out + spent_out,
                        "cost_usd": round(completion.cost_usd + spent_usd, 6),
                    }
                )
            if failures:
                completion = completion.model_copy(update={"fallback_reasons": tuple(failures)})
            return value, completion
        if transient or last is None:
            raise LlmUnavailableError("every LLM provider failed: " + "; ".join(failures)) from last
        raise last
