"""Message and document models: ids, validation, routing attributes and usage sums."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.core.messages import MESSAGE_TYPES, MESSAGES, AgentTask, RunRequest, TaskResult
from shared.core.models import LlmUsage, Message, RunStatus, TaskStatus, stable_id
from shared.core.topology import ALL_AGENTS, TOPOLOGY, agent_topic

# --- stable_id --------------------------------------------------------------------------


def test_stable_id_is_deterministic() -> None:
    first = stable_id("run-1", "finance", "attempt-2")

    second = stable_id("run-1", "finance", "attempt-2")

    assert first == second
    assert len(first) == 20
    assert all(c in "0123456789abcdef" for c in first)


@pytest.mark.parametrize(
    "other",
    [
        ("run-2", "finance", "attempt-2"),
        ("run-1", "marketing", "attempt-2"),
        ("run-1", "finance", "attempt-3"),
        ("run-1", "finance"),
        ("run-1", "finance", "attempt-2", ""),
        ("run-1fi", "nance", "attempt-2"),
    ],
    ids=["first", "second", "third", "fewer-parts", "extra-empty-part", "shifted-boundary"],
)
def test_stable_id_changes_with_each_part(other: tuple[str, ...]) -> None:
    original = stable_id("run-1", "finance", "attempt-2")

    changed = stable_id(*other)

    assert changed != original


def test_stable_id_length_is_configurable() -> None:
    long_id = stable_id("a", "b", length=40)

    short_id = stable_id("a", "b", length=8)

    assert len(long_id) == 40
    assert long_id.startswith(short_id)


# --- RunRequest -------------------------------------------------------------------------


@pytest.mark.parametrize("run_id", ["abc123", "run_2026-11-16", "A" * 64])
def test_run_request_accepts_well_formed_run_ids(run_id: str) -> None:
    request = RunRequest(workflow="weekly_gtm", run_id=run_id)

    assert request.run_id == run_id


@pytest.mark.parametrize(
    "run_id",
    ["abc12", "A" * 65, "run 2026", "run/2026-11", "run.2026.11", "rün-2026", ""],
    ids=["too-short", "too-long", "space", "slash", "dot", "non-ascii", "empty"],
)
def test_run_request_rejects_malformed_run_ids(run_id: str) -> None:
    with pytest.raises(ValidationError, match="run_id"):
        RunRequest(workflow="weekly_gtm", run_id=run_id)


def test_run_request_rejects_unknown_fields_and_triggers() -> None:
    with pytest.raises(ValidationError) as caught:
        RunRequest.model_validate({"workflow": "weekly_gtm", "trigger": "cron", "colour": "red"})

    failing = {error["loc"][0] for error in caught.value.errors()}
    assert failing == {"trigger", "colour"}


# --- attributes -------------------------------------------------------------------------


def test_run_request_attributes_carry_kind_version_and_chosen_run_id() -> None:
    request = RunRequest(workflow="weekly_gtm", run_id="run-000001")

    attributes = request.attributes()

    assert attributes == {"kind": "run_request", "schema_version": "1", "run_id": "run-000001"}


def test_run_request_without_run_id_has_no_run_id_attribute() -> None:
    request = RunRequest(workflow="weekly_gtm")

    attributes = request.attributes()

    assert attributes == {"kind": "run_request", "schema_version": "1"}


def test_agent_task_attributes_carry_its_ids() -> None:
    task = AgentTask(run_id="run-1", task_id="task-9", agent="finance", workflow="weekly_gtm")

    attributes = task.attributes()

    assert attributes == {
        "kind": "agent_task",
        "schema_version": "1",
        "run_id": "run-1",
        "task_id": "task-9",
    }


def test_task_result_attributes_carry_its_ids() -> None:
    result = TaskResult(run_id="run-1", task_id="task-9", agent="finance", status="failed")

    attributes = result.attributes()

    assert attributes == {
        "kind": "task_result",
        "schema_version": "1",
        "run_id": "run-1",
        "task_id": "task-9",
    }


def test_every_message_type_is_routed_by_its_kind() -> None:
    routing = {kind: cls.__name__ for kind, cls in MESSAGE_TYPES.items()}

    assert routing == {
        "run_request": "RunRequest",
        "agent_task": "AgentTask",
        "task_result": "TaskResult",
        "run_command": "RunCommand",
        "billing_event": "BillingEvent",
        "support_message": "SupportMessage",
        "tracking_events": "TrackingEvents",
        "segment_change": "SegmentChange",
    }


def test_every_message_class_of_the_code_base_is_in_the_registry() -> None:
    import importlib
    import pkgutil

    import shared

    for info in pkgutil.walk_packages(shared.__path__, "shared."):
        importlib.import_module(info.name)
    declared = set(_subclasses(Message))

    assert declared == set(MESSAGE_TYPES.values())


def test_every_message_travels_on_a_topic_of_the_topology() -> None:
    topics = {t.name for t in TOPOLOGY.topics}
    agent_topics = {agent_topic(a) for a in ALL_AGENTS}

    for kind in MESSAGES:
        expected = agent_topics if "{agent}" in kind.topic else {kind.topic}
        assert expected <= topics, kind.kind


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]


def test_messages_are_immutable() -> None:
    task = AgentTask(run_id="run-1", task_id="task-9", agent="finance", workflow="weekly_gtm")

    with pytest.raises(ValidationError, match="frozen"):
        task.agent = "marketing"  # type: ignore[misc]


# --- LlmUsage ---------------------------------------------------------------------------


def test_plus_sums_counts_and_keeps_a_shared_provider() -> None:
    a = LlmUsage(provider="p", model="m", tokens_in=10, tokens_out=5, cost_usd=0.1, calls=1)
    b = LlmUsage(provider="p", model="m", tokens_in=3, tokens_out=2, cost_usd=0.2, calls=2)

    total = a.plus(b)

    assert total == LlmUsage(
        provider="p", model="m", tokens_in=13, tokens_out=7, cost_usd=0.3, calls=3
    )


def test_plus_marks_differing_provider_and_model_as_mixed() -> None:
    a = LlmUsage(provider="offline", model="offline-template", calls=1)
    b = LlmUsage(provider="vertex", model="gemini", calls=1)

    total = a.plus(b)

    assert (total.provider, total.model, total.calls) == ("mixed", "mixed", 2)


def test_plus_marks_only_the_differing_field_as_mixed() -> None:
    a = LlmUsage(provider="vertex", model="gemini-pro")
    b = LlmUsage(provider="vertex", model="gemini-flash")

    total = a.plus(b)

    assert (total.provider, total.model) == ("vertex", "mixed")


def test_total_of_several_usages() -> None:
    usages = [
        LlmUsage(tokens_in=1, tokens_out=2, cost_usd=0.000001, calls=1),
        LlmUsage(tokens_in=10, tokens_out=20, cost_usd=0.000002, calls=1),
        LlmUsage(tokens_in=100, tokens_out=200, cost_usd=0.000003, calls=1),
    ]

    total = LlmUsage.total(usages)

    assert (total.tokens_in, total.tokens_out, total.calls) == (111, 222, 3)
    assert total.cost_usd == 0.000006
    assert total.provider == "offline"


def test_total_of_nothing_is_zero() -> None:
    total = LlmUsage.total([])

    assert (total.tokens_in, total.tokens_out, total.cost_usd, total.calls) == (0, 0, 0.0, 0)


def test_total_of_mixed_providers_is_mixed() -> None:
    usages = [LlmUsage(provider="offline"), LlmUsage(provider="offline"), LlmUsage(provider="x")]

    total = LlmUsage.total(usages)

    assert total.provider == "mixed"


# --- statuses ---------------------------------------------------------------------------


def test_run_status_terminal() -> None:
    terminal = {status.value: status.terminal for status in RunStatus}

    assert terminal == {
        "running": False,
        "waiting": False,
        "succeeded": True,
        "failed": True,
        "cancelled": True,
    }


def test_task_status_terminal() -> None:
    terminal = {status.value: status.terminal for status in TaskStatus}

    assert terminal == {"pending": False, "running": False, "succeeded": True, "failed": True}


def test_nested_arrays_are_wrapped_for_firestore() -> None:
    from shared.gcp.firestore import firestore_safe

    value = {"pairs": [["email", "search"], ["email", "social"]], "n": [1, 2], "deep": {"x": [[1]]}}

    assert firestore_safe(value) == {
        "pairs": [{"items": ["email", "search"]}, {"items": ["email", "social"]}],
        "n": [1, 2],
        "deep": {"x": [{"items": [1]}]},
    }


def test_the_error_tree_drawn_in_errors_py_names_every_error_class() -> None:
    import importlib
    import inspect
    import pkgutil

    import shared
    from shared.core import errors

    for info in pkgutil.walk_packages(shared.__path__, "shared."):
        importlib.import_module(info.name)

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    ours = {c for c in subclasses(errors.ControlroomError) if c.__module__.startswith("shared.")}
    doc = inspect.getdoc(errors) or ""
    assert ours and [c.__name__ for c in ours if c.__name__ not in doc] == []
