"""Every policy value an owner can edit says what it does, from the bundled file's comments."""

from __future__ import annotations

import pytest

from shared.app.edit_agent_settings import settings_view
from shared.core.agent_settings import bundled_agents, bundled_policy, bundled_policy_notes


def test_a_note_is_the_comment_on_the_values_line_or_the_lines_above_it() -> None:
    marketing = bundled_policy_notes("marketing")
    support = bundled_policy_notes("support_reply")

    assert marketing["shift_fraction"] == "share of the worst channel's spend proposed to move"
    assert support["out_of_scope_reply"].startswith("The reply to a greeting")
    assert support["article_intents"].startswith("Optional, per shop")
    assert "account-management.md" not in support  # a nested key is not a value of its own


@pytest.mark.parametrize("agent", [a for a in bundled_agents() if bundled_policy(a).values])
def test_every_bundled_policy_value_is_explained(agent: str) -> None:
    unexplained = set(bundled_policy(agent).values) - set(bundled_policy_notes(agent))

    assert unexplained == set(), f"add a comment to {agent}.yaml for {sorted(unexplained)}"


class NoOverrides:
    def agent_override(self, agent: str) -> None:
        return None


class NoHistory:
    def list_settings_versions(self, agent: str, limit: int) -> list[object]:
        return []


def test_the_edit_form_shows_each_fields_meaning() -> None:
    view = settings_view("marketing", overrides=NoOverrides(), versions=NoHistory())  # type: ignore[arg-type]
    policy = {f.name: f.help for f in view.fields["policy"]}
    prompts = {f.name: f.help for f in view.fields["prompts"]}

    assert policy["values.shift_fraction"] == "share of the worst channel's spend proposed to move"
    assert prompts["tier"].startswith("which model answers")
    assert "{{ name }}" in prompts["prompt"]
