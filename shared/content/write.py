"""Use case: write copy variants from a brief, grounded in the help centre (pure but for the
ports it is given: the knowledge base and the LLM).

Each variant is one structured completion with its own angle (what the product does for the
reader, a question the reader has, the next step), so an offline writer's variants differ
too; the help centre's best passages about the product are given as the only facts, and
every variant passes the copy check (template syntax, placeholders, internal ids, audience
counts) or is written again once, then refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from shared.content.models import (
    ContentAnswer,
    ContentBrief,
    ContentSource,
    ContentUsage,
    CopyVariant,
)
from shared.core.agent_settings import AgentSettings
from shared.core.copy_check import copy_problems
from shared.core.errors import PermanentError
from shared.core.models import LlmUsage
from shared.llm.templates import render
from shared.llm.types import LLM, Completion, CompletionRequest

ANGLES = ("benefit", "question", "next_step", "detail")
PASSAGES = 3
LENGTHS = {  # what each channel takes, in characters of body
    "email": 600,
    "social": 220,
    "search": 90,
    "landing_page": 400,
    "sms": 140,
}


class Retrieves(Protocol):
    """The knowledge base, as the writer reads it."""

    def retrieve(self, query: str, k: int = 3) -> Any:
        """The best passages for the query (`hits`, each with its chunk)."""
        ...


class CopyRejectedError(PermanentError):
    """The writer's copy failed the copy check twice."""

    http_status = 422


def write_content(
    brief: ContentBrief,
    *,
    kb: Retrieves,
    llm: Callable[[], LLM],
    settings: AgentSettings,
) -> ContentAnswer:
    """`brief.variants` variants, each through the copy check, with the passages they used."""
    found = kb.retrieve(f"{brief.product} {brief.audience}", PASSAGES)
    passages = [
        {
            "n": hit.rank,
            "title": hit.chunk.title,
            "source": hit.chunk.source,
            "text": hit.chunk.text,
        }
        for hit in found.hits
    ]
    prompts = settings.prompts.drafts
    if prompts is None:
        raise PermanentError("the content prompts have no 'drafts' section")
    # The offline writer gives each variant another sentence of the help centre to stand on.
    facts_found = list(dict.fromkeys(s for p in passages for s in _sentences(p["text"])[:2]))
    variants, completions = [], []
    for index in range(brief.variants):
        facts = {
            "product": brief.product,
            "audience": brief.audience,
            "channel": brief.channel.replace("_", " "),
            "tone": brief.tone,
            "angle": ANGLES[index % len(ANGLES)],
            "max_chars": LENGTHS[brief.channel],
            "passages": passages,
            "fact": facts_found[index % len(facts_found)] if facts_found else "",
        }
        variant = None
        for _attempt in range(2):
            request = CompletionRequest(
                system=prompts.system,
                prompt=render(prompts.prompt, facts),
                facts=facts,
                tier=settings.prompts.tier,
                agent="content",
                offline_answer={key: render(tpl, facts) for key, tpl in prompts.offline.items()},
            )
            written, completion = llm().structured(request, CopyVariant)
            completions.append(completion)
            problems = [
                f"{field}: {problem}"
                for field, text in written.model_dump().items()
                for problem in copy_problems(str(text))
            ]
            if not problems:
                variant = written
                break
        if variant is None:
            raise CopyRejectedError(f"variant {index + 1} failed the copy check: {problems}")
        variants.append(variant)
    return ContentAnswer(
        variants=variants,
        sources=_sources(passages),
        usage=_usage(completions),
        offline=all(c.offline for c in completions),
    )


def _without_heading(text: str, heading: str | None) -> str:
    """A chunk's text without the section heading it starts with (no full stop after it)."""
    body = text.strip()
    if heading and body.startswith(heading):
        return body[len(heading) :].strip()
    return body


def _sentences(text: str) -> list[str]:
    """The passage's sentences that read on their own (not a heading, not a fragment): a line
    that does not end as a sentence ends is a heading, and is left out."""
    lines = [line.strip() for line in text.splitlines()]
    body = " ".join(line for line in lines if line and line[-1] in ".!?:)")
    found = re.split(r"(?<=[.!?])\s+", body)
    return [s for s in found if len(s) >= 30 and s[-1] in ".!?" and s[0].isupper()]


def _sources(passages: list[dict[str, Any]]) -> list[ContentSource]:
    """Each article once, by its best passage's number."""
    seen: dict[str, ContentSource] = {}
    for p in passages:
        seen.setdefault(p["source"], ContentSource(n=p["n"], title=p["title"], source=p["source"]))
    return list(seen.values())


def _usage(completions: list[Completion]) -> ContentUsage:
    total = LlmUsage.total(
        [
            LlmUsage(
                provider=c.provider,
                model=c.model,
                tokens_in=c.tokens_in,
                tokens_out=c.tokens_out,
                cost_usd=c.cost_usd,
                calls=1,
            )
            for c in completions
        ]
    )
    return ContentUsage(
        calls=total.calls,
        tokens_in=total.tokens_in,
        tokens_out=total.tokens_out,
        cost_usd=total.cost_usd,
        provider=total.provider,
        model=total.model,
    )
