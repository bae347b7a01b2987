"""The declared wiring is internally consistent: every reference points at something declared."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest
from croniter import croniter

from shared.core.messages import RunRequest
from shared.core.topology import (
    ALL_AGENTS,
    TOPOLOGY,
    Function,
    Schedule,
    Subscription,
    Topology,
    Trigger,
)

TOPIC_NAMES = {topic.name for topic in TOPOLOGY.topics}
PUBSUB_FUNCTIONS = [f for f in TOPOLOGY.functions if f.trigger is Trigger.PUBSUB]
PUSH_SUBSCRIPTIONS = [s for s in TOPOLOGY.subscriptions if s.push_function is not None]


def _ids(items: list[Function] | list[Subscription] | tuple[Schedule, ...]) -> list[str]:
    return [item.name for item in items]


# --- functions and their subscriptions ------------------------------------------------


def test_each_consumer_reads_the_topic_it_is_meant_to() -> None:
    expected = {
        "supervisor-runs": "run-requests",
        "supervisor-results": "task-results",
        "supervisor-billing": "billing-events",
        "supervisor-dead-letters": "dead-letters",
        "supervisor-sweeper": "sweeps",
        "profiles": "events",
        "supervisor-segments": "segment-changes",
        "support-messages": "support-messages",
        **{f"agent-{agent}": f"agent-{agent}" for agent in ALL_AGENTS},
    }

    consumed = {f.name: TOPOLOGY.subscription(f.subscription or "").topic for f in PUBSUB_FUNCTIONS}

    assert consumed == expected


@pytest.mark.parametrize("function", PUBSUB_FUNCTIONS, ids=_ids(PUBSUB_FUNCTIONS))
def test_pubsub_function_is_pushed_by_its_own_subscription(function: Function) -> None:
    subscription = TOPOLOGY.subscription(function.subscription or "")

    assert subscription.push_function == function.name
    assert function.signature == "cloudevent"


@pytest.mark.parametrize("subscription", PUSH_SUBSCRIPTIONS, ids=_ids(PUSH_SUBSCRIPTIONS))
def test_push_subscription_targets_a_pubsub_function(subscription: Subscription) -> None:
    function = TOPOLOGY.function(subscription.push_function or "")

    assert function.trigger is Trigger.PUBSUB
    assert function.subscription == subscription.name


@pytest.mark.parametrize("subscription", PUSH_SUBSCRIPTIONS, ids=_ids(PUSH_SUBSCRIPTIONS))
def test_ack_deadline_covers_the_function_timeout(subscription: Subscription) -> None:
    function = TOPOLOGY.function(subscription.push_function or "")

    assert subscription.ack_deadline_s >= function.timeout_s


def test_http_functions_have_no_subscription() -> None:
    http_functions = [f for f in TOPOLOGY.functions if f.trigger is Trigger.HTTP]

    assert http_functions != []
    assert all(f.subscription is None for f in http_functions)


def test_names_are_unique() -> None:
    kinds = {
        "topics": [t.name for t in TOPOLOGY.topics],
        "subscriptions": [s.name for s in TOPOLOGY.subscriptions],
        "functions": [f.name for f in TOPOLOGY.functions],
        "schedules": [s.name for s in TOPOLOGY.schedules],
    }

    duplicated = {kind: names for kind, names in kinds.items() if len(set(names)) != len(names)}

    assert duplicated == {}


# --- topics referenced everywhere exist -------------------------------------------------


@pytest.mark.parametrize("subscription", TOPOLOGY.subscriptions, ids=_ids(TOPOLOGY.subscriptions))
def test_subscription_topics_are_declared(subscription: Subscription) -> None:
    assert subscription.topic in TOPIC_NAMES
    assert subscription.dead_letter_topic is None or subscription.dead_letter_topic in TOPIC_NAMES


@pytest.mark.parametrize("subscription", TOPOLOGY.subscriptions, ids=_ids(TOPOLOGY.subscriptions))
def test_subscription_does_not_dead_letter_into_its_own_topic(subscription: Subscription) -> None:
    assert subscription.dead_letter_topic != subscription.topic


@pytest.mark.parametrize("subscription", TOPOLOGY.subscriptions, ids=_ids(TOPOLOGY.subscriptions))
def test_max_delivery_attempts_is_at_least_five(subscription: Subscription) -> None:
    # Pub/Sub rejects a dead-letter policy with fewer than 5 attempts.
    assert subscription.max_delivery_attempts >= 5


@pytest.mark.parametrize("function", TOPOLOGY.functions, ids=_ids(list(TOPOLOGY.functions)))
def test_published_topics_are_declared(function: Function) -> None:
    undeclared = set(function.publishes_to) - TOPIC_NAMES

    assert undeclared == set()


def test_every_agent_topic_has_a_publisher() -> None:
    published = {topic for f in TOPOLOGY.functions for topic in f.publishes_to}

    assert {f"agent-{agent}" for agent in ALL_AGENTS} <= published


# --- schedules --------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", TOPOLOGY.schedules, ids=_ids(TOPOLOGY.schedules))
def test_schedule_cron_time_zone_and_topic_are_valid(schedule: Schedule) -> None:
    known_zones = available_timezones()

    cron_ok = croniter.is_valid(schedule.cron)

    assert cron_ok
    assert schedule.time_zone in known_zones
    assert schedule.topic in TOPIC_NAMES


def test_weekly_gtm_fires_monday_eight_in_paris() -> None:
    schedule = TOPOLOGY.schedule("weekly-gtm")
    paris = ZoneInfo(schedule.time_zone)

    next_fire = croniter(schedule.cron, datetime(2026, 11, 16, 9, 0, tzinfo=paris)).get_next(
        datetime
    )

    assert next_fire == datetime(2026, 11, 23, 8, 0, tzinfo=paris)


RUN_SCHEDULES = tuple(s for s in TOPOLOGY.schedules if s.topic == "run-requests")


def test_every_schedule_targets_a_declared_topic_with_a_consumer() -> None:
    consumed = {s.topic for s in TOPOLOGY.subscriptions if s.push_function}

    assert {s.topic for s in TOPOLOGY.schedules} <= consumed


@pytest.mark.parametrize("schedule", RUN_SCHEDULES, ids=_ids(RUN_SCHEDULES))
def test_schedule_payload_is_a_valid_run_request(schedule: Schedule) -> None:
    request = RunRequest.model_validate(schedule.payload)

    assert schedule.attributes.get("kind") == RunRequest.kind
    assert request.trigger == "schedule"


# --- JSON for Terraform -----------------------------------------------------------------


def test_to_json_round_trips_to_an_equal_topology() -> None:
    document = TOPOLOGY.to_json()

    parsed = Topology.model_validate(json.loads(document))

    assert parsed == TOPOLOGY
    assert parsed.to_json() == document


def test_to_json_is_stable() -> None:
    first = TOPOLOGY.to_json()

    second = TOPOLOGY.to_json()

    assert first == second
    assert first.endswith("}\n")
