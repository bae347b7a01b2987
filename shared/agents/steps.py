"""What a workflow step's handler gets to work one task (the handlers are listed in
shared.agents.registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.core.agent_settings import AgentSettings
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.core.models import LlmUsage
from shared.core.ports import AgentOutcome, DataSource, StepRecorder, Store
from shared.llm.templates import render
from shared.llm.types import LLM, Completion, CompletionRequest


def _not_wired() -> Any:
    raise RuntimeError("this step context was built without the adapters this step needs")


@dataclass(frozen=True)
class StepContext:
    """The adapters a step handler may use; each is built only if the handler asks for it."""

    data: DataSource
    llm: Callable[[], LLM]
    settings: Callable[[str], AgentSettings]  # by settings name, e.g. "winback_email"
    store: Store
    email: Callable[[], Any]  # the EmailSender port (shared.email)
    clock: Callable[[], datetime]
    on_step: StepRecorder
    leads: Callable[[], Any] = _not_wired  # lead scoring's adapters (shared.wiring.leads)
    ads: Callable[[], Any] = _not_wired  # the ad platforms and campaign records (shared.wiring.ads)
    mailing: Callable[[], Any] = _not_wired  # who left the mailing, and links (shared.email)


StepHandler = Callable[[AgentTask, StepContext], AgentOutcome]


def drafts_request(settings: AgentSettings, facts: dict[str, Any], agent: str) -> CompletionRequest:
    """A structured draft from the settings' `drafts` prompts, answered offline by filling
    each field's template with the facts."""
    prompts = settings.prompts.drafts
    if prompts is None:
        raise PermanentError(f"the {settings.prompts.agent} prompts have no 'drafts' section")
    return CompletionRequest(
        system=prompts.system,
        prompt=render(prompts.prompt, facts),
        facts=facts,
        tier=settings.prompts.tier,
        agent=agent,
        offline_answer={key: render(tpl, facts) for key, tpl in prompts.offline.items()},
    )


def usage_of(completions: list[Completion]) -> LlmUsage:
    """The tokens and cost of these LLM calls, summed (one call each)."""
    return LlmUsage.total(
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
