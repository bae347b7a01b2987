"""Versioned prompts and policies, and their run-time overrides."""

from __future__ import annotations

from typing import Any

import pytest

from shared.core.agent_settings import bundled_policy, bundled_prompts, resolve_agent_settings
from shared.core.errors import PermanentError
from shared.core.topology import AGENTS
from shared.llm.templates import render


class Overrides:
    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents

    def agent_override(self, agent: str) -> dict[str, Any] | None:
        return self.documents.get(agent)


@pytest.mark.parametrize("agent", AGENTS)
def test_every_agent_ships_versioned_prompts_and_policy(agent: str) -> None:
    prompts, policy = bundled_prompts(agent), bundled_policy(agent)

    assert (prompts.agent, policy.agent) == (agent, agent)
    assert prompts.version >= 1 and policy.version >= 1
    assert "{{" in prompts.prompt and "{{" in prompts.offline


def test_without_override_the_bundled_files_are_used() -> None:
    settings = resolve_agent_settings("insights", Overrides({}))

    assert settings.policy.values == {"churn_after_days": 90, "bgnbd_horizon_weeks": 12}
    assert settings.versions() == {
        "prompts": "insights/v2 (bundled)",
        "policy": "insights/v2 (bundled)",
    }


def test_an_override_replaces_only_what_it_names_and_is_recorded() -> None:
    overrides = Overrides(
        {"insights": {"policy": {"version": 4, "values": {"churn_after_days": 60}}}}
    )

    settings = resolve_agent_settings("insights", overrides)

    assert settings.policy.values == {"churn_after_days": 60, "bgnbd_horizon_weeks": 12}
    assert settings.prompts == bundled_prompts("insights")
    assert settings.versions() == {
        "prompts": "insights/v2 (bundled)",
        "policy": "insights/v4 (override)",
    }


def test_a_prompt_override_changes_the_words() -> None:
    overrides = Overrides(
        {"finance": {"prompts": {"version": 2, "headline": "MRR {{ latest_month }}"}}}
    )

    settings = resolve_agent_settings("finance", overrides)

    assert render(settings.prompts.headline, {"latest_month": "2026-10"}) == "MRR 2026-10"
    assert settings.prompts_source == "override" and settings.prompts.version == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"policy": {"values": {"churn_after_days": 1}}},
            "must be a mapping with its own 'version'",
        ),
        ({"prompts": {"version": 2, "tier": "genius"}}, "invalid override of agent 'finance'"),
        ({"prompts": {"version": 2, "surprise": "x"}}, "invalid override of agent 'finance'"),
    ],
)
def test_a_bad_override_is_a_permanent_error(document: dict[str, Any], message: str) -> None:
    with pytest.raises(PermanentError, match=message):
        resolve_agent_settings("finance", Overrides({"finance": document}))
