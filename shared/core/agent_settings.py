"""Prompts and policy thresholds per agent: versioned files, overridable from Firestore.

The bundled files are shared/prompts/<agent>.yaml and shared/policies/<agent>.yaml. An
override document (Firestore agent_settings/<agent>, read through the AgentOverrides port)
may replace any field of either, and must carry its own version; every task records the
versions it ran with.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.core.errors import PermanentError

M = TypeVar("M", bound=BaseModel)


class DraftPrompts(BaseModel):
    """Prompts for a structured draft (e.g. a campaign brief and emails) and, per field of the
    answer, the template the offline provider fills in."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    system: str
    prompt: str
    offline: dict[str, str]


class PromptSet(BaseModel):
    """The words one agent uses: system prompt, user prompt, headline and offline templates."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    agent: str
    version: int = Field(ge=1)
    tier: Literal["smart", "fast"] = "smart"
    system: str
    prompt: str
    headline: str
    offline: str
    drafts: DraftPrompts | None = None


class Policy(BaseModel):
    """The thresholds one agent applies, e.g. the churn threshold in days."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    agent: str
    version: int = Field(ge=1)
    values: dict[str, Any] = Field(default_factory=dict)


class AgentSettings(BaseModel):
    """What an agent runs with, and where each part came from."""

    model_config = ConfigDict(frozen=True)
    prompts: PromptSet
    policy: Policy
    prompts_source: Literal["bundled", "override"] = "bundled"
    policy_source: Literal["bundled", "override"] = "bundled"

    def versions(self) -> dict[str, str]:
        """The record a task keeps of what it ran with."""
        return {
            "prompts": f"{self.prompts.agent}/v{self.prompts.version} ({self.prompts_source})",
            "policy": f"{self.policy.agent}/v{self.policy.version} ({self.policy_source})",
        }


class AgentOverrides(Protocol):
    """Where run-time overrides of prompts and policies are kept."""

    def agent_override(self, agent: str) -> dict[str, Any] | None:
        """The override document of an agent: {"prompts": {...}, "policy": {...}}, or None."""
        ...


def _read_yaml(folder: str, agent: str) -> dict[str, Any]:
    path = resources.files("shared").joinpath(folder, f"{agent}.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PermanentError(f"no {folder} file for agent {agent!r}") from None
    if not isinstance(data, dict):
        raise PermanentError(f"{folder}/{agent}.yaml must be a mapping")
    return data


@cache
def bundled_agents() -> tuple[str, ...]:
    """Every agent that ships both a prompts and a policy file, sorted."""
    root = resources.files("shared")
    names = [
        {
            entry.name.removesuffix(".yaml")
            for entry in root.joinpath(folder).iterdir()
            if entry.name.endswith(".yaml")
        }
        for folder in ("prompts", "policies")
    ]
    return tuple(sorted(names[0] & names[1]))


@cache
def bundled_prompts(agent: str) -> PromptSet:
    """The prompts shipped in the repository for `agent`."""
    return PromptSet.model_validate(_read_yaml("prompts", agent))


@cache
def bundled_policy(agent: str) -> Policy:
    """The policy shipped in the repository for `agent`."""
    return Policy.model_validate(_read_yaml("policies", agent))


_VALUE_LINE = re.compile(r"^  ([A-Za-z_][A-Za-z0-9_]*):(.*)$")
_COMMENT_LINE = re.compile(r"^  #\s?(.*)$")


@cache
def bundled_policy_notes(agent: str) -> dict[str, str]:
    """What each policy value means, in the words of the bundled file's comments: the one on
    the value's own line, else the comment lines right above it; {} for a value with neither."""
    path = resources.files("shared").joinpath("policies", f"{agent}.yaml")
    notes: dict[str, str] = {}
    above: list[str] = []
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith(" "):
            inside = line.startswith("values:")
            above = []
            continue
        if not inside:
            continue
        comment = _COMMENT_LINE.match(line)
        if comment:
            above.append(comment.group(1).strip())
            continue
        value = _VALUE_LINE.match(line)
        if value:
            inline = value.group(2).split(" #", 1)
            text = inline[1].strip() if len(inline) > 1 else " ".join(above)
            if text:
                notes[value.group(1)] = text
            above = []
    return notes


def resolve_agent_settings(agent: str, overrides: AgentOverrides | None = None) -> AgentSettings:
    """Bundled prompts and policy, with any run-time override applied on top."""
    prompts, policy = bundled_prompts(agent), bundled_policy(agent)
    override = overrides.agent_override(agent) if overrides is not None else None
    if not override:
        return AgentSettings(prompts=prompts, policy=policy)
    try:
        new_prompts = _merge(prompts, override.get("prompts"))
        new_policy = _merge(policy, override.get("policy"))
    except ValidationError as exc:
        raise PermanentError(f"invalid override of agent {agent!r}: {exc}") from exc
    return AgentSettings(
        prompts=new_prompts,
        policy=new_policy,
        prompts_source="override" if new_prompts is not prompts else "bundled",
        policy_source="override" if new_policy is not policy else "bundled",
    )


def _merge(base: M, changes: Any) -> M:
    if not changes:
        return base
    if not isinstance(changes, dict) or "version" not in changes:
        raise PermanentError("an override must be a mapping with its own 'version'")
    merged = {**base.model_dump(), **changes}
    if isinstance(base, Policy) and isinstance(changes.get("values"), dict):
        merged["values"] = {**base.values, **changes["values"]}
    return type(base).model_validate(merged)
