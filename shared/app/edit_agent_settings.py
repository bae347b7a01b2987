"""Use case: people read and edit the prompts and policy thresholds each agent runs with.

Every edit creates a new version; none is ever changed or overwritten:

    agent_settings/{agent}/versions/{kind}-v{n}   SettingsVersion (kind "prompts" or "policy"):
                                                  the complete content, who saved it, when,
                                                  why, and the version it was based on
    agent_settings/{agent}                        {kind: content of the newest version, ...}:
                                                  the override the agents read at run time
                                                  (shared/core/agent_settings.py)

Both are written in one batch that *creates* the version document, so of two people saving
on the same base, one wins and the other gets a 409 (as does anyone whose page is older than
the current version: `base_version` must be the version they edited). A new version number
is one above the current, bundled and every saved one, so a number never means two contents.
Prompt templates are compiled with the agents' own Jinja environment before saving, so a
broken template is a 400 instead of a failing run. Tasks record the versions they ran with.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import jinja2
import yaml
from pydantic import BaseModel, Field, ValidationError

from shared.core.agent_settings import (
    AgentOverrides,
    AgentSettings,
    Policy,
    PromptSet,
    bundled_agents,
    bundled_policy,
    bundled_policy_notes,
    bundled_prompts,
    resolve_agent_settings,
)
from shared.core.documents import SettingsKind, SettingsVersion
from shared.core.envelope import describe_validation_error
from shared.core.errors import ConflictError, InvalidRequestError, NotFoundError
from shared.llm import templates

Kind = SettingsKind
KINDS: tuple[Kind, ...] = ("prompts", "policy")
HISTORY_SHOWN = 50
MAX_COMMENT_CHARS = 500
META_FIELDS = ("base_version", "comment")
_NOT_EDITABLE = ("agent", "version")


class SettingsVersions(Protocol):
    """Where saved versions are kept."""

    def list_settings_versions(self, agent: str, limit: int) -> list[SettingsVersion]:
        """An agent's saved versions of both kinds, newest first."""
        ...

    def save_settings_version(self, version: SettingsVersion) -> bool:
        """Create the version and make it the agent's override, atomically; False (and no
        change) when that version exists already."""
        ...


def require_agent(agent: str) -> str:
    """The agent's name if it ships settings; NotFoundError otherwise."""
    if agent not in bundled_agents():
        raise NotFoundError(f"no agent {agent!r}; agents: {', '.join(bundled_agents())}")
    return agent


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One editable setting as the edit form shows it."""

    name: str  # the form field: "system", "drafts.offline.subject", "values.max_customers"
    value: str  # as typed into the form (YAML for structured policy values)
    widget: Literal["text", "textarea", "select"]
    options: tuple[str, ...] = ()
    help: str = ""  # what the setting does, in words


@dataclass(frozen=True)
class AgentSettingsView:
    """What the page of one agent shows."""

    agent: str
    settings: AgentSettings
    bundled_versions: dict[str, int]
    history: list[SettingsVersion]
    diffs: dict[str, str]  # version_id -> unified diff against the version before it
    fields: dict[str, list[FormField]]

    def as_json(self) -> dict[str, Any]:
        """The JSON API's shape."""
        return {
            "agent": self.agent,
            "prompts": self.settings.prompts.model_dump(mode="json"),
            "policy": self.settings.policy.model_dump(mode="json"),
            "sources": {
                "prompts": self.settings.prompts_source,
                "policy": self.settings.policy_source,
            },
            "versions": self.settings.versions(),
            "bundled_versions": self.bundled_versions,
            "history": [v.model_dump(mode="json") for v in self.history],
        }


def agent_summaries(overrides: AgentOverrides) -> list[dict[str, Any]]:
    """Every agent with the versions it runs now."""
    rows = []
    for agent in bundled_agents():
        settings = resolve_agent_settings(agent, overrides)
        rows.append(
            {
                "agent": agent,
                "prompts_version": settings.prompts.version,
                "prompts_source": settings.prompts_source,
                "policy_version": settings.policy.version,
                "policy_source": settings.policy_source,
                "tier": settings.prompts.tier,
                "versions": settings.versions(),
            }
        )
    return rows


def settings_view(
    agent: str, *, overrides: AgentOverrides, versions: SettingsVersions
) -> AgentSettingsView:
    """The current settings of `agent`, their history and the edit form's fields."""
    require_agent(agent)
    settings = resolve_agent_settings(agent, overrides)
    history = versions.list_settings_versions(agent, HISTORY_SHOWN)
    return AgentSettingsView(
        agent=agent,
        settings=settings,
        bundled_versions={
            "prompts": bundled_prompts(agent).version,
            "policy": bundled_policy(agent).version,
        },
        history=history,
        diffs=_diffs(agent, history),
        fields={
            "prompts": _prompt_fields(settings.prompts),
            "policy": _policy_fields(settings.policy, bundled_policy_notes(agent)),
        },
    )


# What each prompt field is for; {{ name }} in a template is replaced by that figure.
PROMPT_HELP = {
    "tier": "which model answers: smart (the larger one) or fast (the cheaper one)",
    "system": "who the model is told it is and the rules it must keep",
    "prompt": "what the model is asked, with the figures filled in where {{ name }} stands",
    "headline": "the one-line title of the agent's section in the report",
    "offline": "the text written without an LLM (no key configured), figures filled in",
    "drafts.system": "who the model is told it is when it drafts customer-facing copy",
    "drafts.prompt": "what the model is asked for each draft, with the figures filled in",
}


def _prompt_help(name: str) -> str:
    if name in PROMPT_HELP:
        return PROMPT_HELP[name]
    if ".offline." in f".{name}.":
        return "the draft's " + name.rsplit(".", 1)[-1] + " as written without an LLM"
    return ""


def _prompt_fields(prompts: PromptSet) -> list[FormField]:
    fields = []
    for name, value in _string_leaves(prompts.model_dump()).items():
        help_text = _prompt_help(name)
        if name == "tier":
            fields.append(FormField(name, value, "select", ("smart", "fast"), help_text))
        else:
            widget: Literal["text", "textarea"] = (
                "textarea" if "\n" in value or len(value) > 80 else "text"
            )
            fields.append(FormField(name, value, widget, help=help_text))
    return fields


def _policy_fields(policy: Policy, notes: Mapping[str, str]) -> list[FormField]:
    fields = []
    for key, value in policy.values.items():
        name, note = f"values.{key}", notes.get(key, "")
        if isinstance(value, bool):
            fields.append(FormField(name, str(value).lower(), "select", ("true", "false"), note))
        elif isinstance(value, int | float | str):
            fields.append(FormField(name, str(value), "text", help=note))
        else:
            text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True).rstrip()
            fields.append(FormField(name, text, "textarea", help=note))
    return fields


def _string_leaves(content: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    leaves: dict[str, str] = {}
    for key, value in content.items():
        if not prefix and key in _NOT_EDITABLE:
            continue
        if isinstance(value, str):
            leaves[prefix + key] = value
        elif isinstance(value, Mapping):
            leaves.update(_string_leaves(value, f"{prefix}{key}."))
    return leaves


def _diffs(agent: str, history: list[SettingsVersion]) -> dict[str, str]:
    diffs = {}
    for kind in KINDS:
        ordered = sorted((v for v in history if v.kind == kind), key=lambda v: v.version)
        previous = _dump(_bundled_content(agent, kind))
        previous_label = f"{kind} bundled"
        for version in ordered:
            current = _dump(version.content)
            label = f"{kind} v{version.version}"
            lines = difflib.unified_diff(
                previous.splitlines(), current.splitlines(), previous_label, label, lineterm=""
            )
            diffs[version.version_id] = "\n".join(lines)
            previous, previous_label = current, label
    return diffs


def _dump(content: Mapping[str, Any]) -> str:
    body = {k: v for k, v in content.items() if k != "version"}
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def _bundled_content(agent: str, kind: Kind) -> dict[str, Any]:
    model = bundled_prompts(agent) if kind == "prompts" else bundled_policy(agent)
    return model.model_dump()


# --- editing ---------------------------------------------------------------------------


class _EditMeta(BaseModel):
    base_version: int = Field(ge=1)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)


def save_new_version(
    agent: str,
    kind: Kind,
    fields: Mapping[str, object],
    *,
    overrides: AgentOverrides,
    versions: SettingsVersions,
    who: str,
    clock: Callable[[], datetime],
) -> SettingsVersion:
    """Save the edited fields of an agent's prompts or policy as a new version.

    `fields` are the form's (or JSON body's) fields: `base_version` (the version edited),
    an optional `comment`, and any editable field by its name (FormField.name); fields not
    given keep their current value. InvalidRequestError names a bad field; ConflictError
    says when someone saved a newer version first.
    """
    require_agent(agent)
    try:
        meta = _EditMeta.model_validate({k: fields[k] for k in META_FIELDS if k in fields})
    except ValidationError as exc:
        raise InvalidRequestError(describe_validation_error(exc)) from exc
    changes = {name: value for name, value in fields.items() if name not in META_FIELDS}
    settings = resolve_agent_settings(agent, overrides)
    current: PromptSet | Policy = settings.prompts if kind == "prompts" else settings.policy
    source = settings.prompts_source if kind == "prompts" else settings.policy_source
    if meta.base_version != current.version:
        raise ConflictError(
            f"{agent}'s {kind} are at version {current.version} now, not "
            f"{meta.base_version}; reload the page and make the change again"
        )
    content = current.model_dump()
    if kind == "prompts":
        _apply_prompt_changes(agent, content, changes)
    else:
        _apply_policy_changes(agent, content, changes)
    if content == current.model_dump():
        raise InvalidRequestError(f"nothing changed: version {current.version} has these {kind}")
    saved = [
        v.version for v in versions.list_settings_versions(agent, HISTORY_SHOWN) if v.kind == kind
    ]
    bundled = _bundled_content(agent, kind)["version"]
    content["version"] = max([current.version, bundled, *saved]) + 1
    model = PromptSet if kind == "prompts" else Policy
    try:
        model.model_validate(content)
    except ValidationError as exc:
        raise InvalidRequestError(describe_validation_error(exc)) from exc
    version = SettingsVersion(
        agent=agent,
        kind=kind,
        version=content["version"],
        content=content,
        created_by=who,
        created_at=clock(),
        comment=(meta.comment or "").strip() or None,
        based_on=f"{agent}/v{current.version} ({source})",
    )
    if not versions.save_settings_version(version):
        raise ConflictError(
            f"version {version.version} of {agent}'s {kind} was saved by someone else first; "
            "reload the page and make the change again"
        )
    return version


def _apply_prompt_changes(
    agent: str, content: dict[str, Any], changes: Mapping[str, object]
) -> None:
    editable = _string_leaves(content)
    for name, value in changes.items():
        if name not in editable:
            raise InvalidRequestError(
                f"{name}: not a field of {agent}'s prompts; fields: {', '.join(editable)}"
            )
        if not isinstance(value, str):
            raise InvalidRequestError(f"{name}: must be text")
        text = value.replace("\r\n", "\n")
        if name != "tier":
            _check_template(name, text)
        _set_leaf(content, name.split("."), text)


def _check_template(name: str, text: str) -> None:
    try:
        # The agents' own environment (its filters: eur, pct, ...), so what compiles here
        # compiles when the agent runs.
        templates._compile(text)
    except jinja2.TemplateError as exc:
        line = f" (line {exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise InvalidRequestError(f"{name}: not a valid template{line}: {exc.message}") from exc


def _set_leaf(content: dict[str, Any], path: list[str], value: str) -> None:
    node = content
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _apply_policy_changes(
    agent: str, content: dict[str, Any], changes: Mapping[str, object]
) -> None:
    values: dict[str, Any] = copy.deepcopy(content["values"])
    for name, raw in changes.items():
        key = name.removeprefix("values.")
        if not name.startswith("values.") or key not in values:
            known = ", ".join(f"values.{k}" for k in values)
            raise InvalidRequestError(f"{name}: not a value of {agent}'s policy; values: {known}")
        values[key] = _coerce(name, values[key], raw)
    content["values"] = values


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _coerce(name: str, current: Any, raw: object) -> Any:
    """`raw` (form text or a JSON value) as a value of the same type as `current`."""
    text = raw.strip() if isinstance(raw, str) else None
    if isinstance(current, bool):
        if isinstance(raw, bool):
            return raw
        if text is not None and text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise InvalidRequestError(f"{name}: must be true or false")
    if isinstance(current, int | float):
        number: object = raw
        if text is not None:
            try:
                number = int(text) if isinstance(current, int) else float(text)
            except ValueError:
                kind = "a whole number" if isinstance(current, int) else "a number"
                raise InvalidRequestError(f"{name}: must be {kind}, not {text!r}") from None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidRequestError(f"{name}: must be a number")
        if isinstance(current, int) and not isinstance(number, int):
            raise InvalidRequestError(f"{name}: must be a whole number")
        if not math.isfinite(number):
            raise InvalidRequestError(f"{name}: must be a finite number")
        return float(number) if isinstance(current, float) else number
    if isinstance(current, str):
        if text is None:
            raise InvalidRequestError(f"{name}: must be text")
        return text
    parsed = raw
    if text is not None:
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidRequestError(f"{name}: not valid YAML: {exc}") from exc
    if current is not None and type(parsed) is not type(current):
        expected = "a mapping" if isinstance(current, dict) else type(current).__name__
        raise InvalidRequestError(f"{name}: must be {expected}")
    return parsed
