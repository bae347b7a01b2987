"""The single source of truth for topics, subscriptions, functions and schedules.

The local cloud (emulators/) builds itself from TOPOLOGY; Terraform reads the JSON that
`controlroom topology` writes from it (infra/terraform/topology.json), and a test fails when
the two drift.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The agents that analyse the week (the weekly run fans out to each).
AGENTS: tuple[str, ...] = ("marketing", "finance", "insights", "support")
# Agents that only work workflow steps: lead scoring and the ad manager (the growth workflow).
STEP_AGENTS: tuple[str, ...] = ("leads", "ads")
ALL_AGENTS: tuple[str, ...] = AGENTS + STEP_AGENTS

RUN_REQUESTS_TOPIC = "run-requests"
TASK_RESULTS_TOPIC = "task-results"
DEAD_LETTERS_TOPIC = "dead-letters"
SWEEPS_TOPIC = "sweeps"
BILLING_EVENTS_TOPIC = "billing-events"
EVENTS_TOPIC = "events"
SEGMENT_CHANGES_TOPIC = "segment-changes"
SUPPORT_MESSAGES_TOPIC = "support-messages"


def agent_topic(agent: str) -> str:
    """The topic that carries tasks for one agent."""
    return f"agent-{agent}"


class Trigger(StrEnum):
    """How a function is invoked."""

    HTTP = "http"
    PUBSUB = "pubsub"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RetryPolicy(_Frozen):
    """Pub/Sub's exponential redelivery backoff between two bounds (applied by Pub/Sub, in
    the cloud and in the emulator, to every nacked message)."""

    minimum_backoff_s: int = 1
    maximum_backoff_s: int = 60


class Topic(_Frozen):
    """A Pub/Sub topic."""

    name: str
    description: str


class Subscription(_Frozen):
    """A subscription that feeds one function (or keeps messages for people to read)."""

    name: str
    topic: str
    ack_deadline_s: int = Field(default=60, ge=10, le=600)
    retry: RetryPolicy = RetryPolicy()
    dead_letter_topic: str | None = DEAD_LETTERS_TOPIC
    max_delivery_attempts: int = Field(default=5, ge=5, le=100)
    filter: str = ""
    push_function: str | None = None
    retain_days: int = 7


class Function(_Frozen):
    """One deployed Cloud Run function."""

    name: str
    source: str
    entry_point: str
    trigger: Trigger
    subscription: str | None = None
    memory_mb: int = 512
    timeout_s: int = 60
    concurrency: int = 1
    min_instances: int = 0
    max_instances: int = 10
    publishes_to: tuple[str, ...] = ()
    signature: Literal["http", "cloudevent"] = "http"


class Schedule(_Frozen):
    """A Cloud Scheduler job that publishes a payload to a topic."""

    name: str
    cron: str
    time_zone: str
    topic: str
    payload: dict[str, object]
    attributes: dict[str, str] = Field(default_factory=dict)
    description: str = ""


class Topology(_Frozen):
    """The whole wiring of controlroom."""

    topics: tuple[Topic, ...]
    subscriptions: tuple[Subscription, ...]
    functions: tuple[Function, ...]
    schedules: tuple[Schedule, ...]

    def function(self, name: str) -> Function:
        """The function called `name`."""
        return next(f for f in self.functions if f.name == name)

    def subscription(self, name: str) -> Subscription:
        """The subscription called `name`."""
        return next(s for s in self.subscriptions if s.name == name)

    def schedule(self, name: str) -> Schedule:
        """The schedule called `name`."""
        return next(s for s in self.schedules if s.name == name)

    def to_json(self) -> str:
        """The JSON document Terraform reads (stable key order, trailing newline)."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def _pubsub_function(
    name: str, source: str, entry_point: str, topic: str, publishes_to: tuple[str, ...], **kw: int
) -> tuple[Function, Subscription]:
    timeout_s = kw.pop("timeout_s", 60)
    function = Function(
        name=name,
        source=source,
        entry_point=entry_point,
        trigger=Trigger.PUBSUB,
        subscription=name,
        timeout_s=timeout_s,
        publishes_to=publishes_to,
        signature="cloudevent",
        **kw,
    )
    # In the cloud the ack deadline is also the push request's timeout: a task that runs
    # longer than it would be redelivered while still running.
    subscription = Subscription(
        name=name,
        topic=topic,
        ack_deadline_s=min(600, max(10, timeout_s + 10)),
        retry=RetryPolicy(minimum_backoff_s=1, maximum_backoff_s=30),
        push_function=name,
    )
    return function, subscription


def build_topology() -> Topology:
    """Declare every piece of wiring once."""
    topics = [
        Topic(name=RUN_REQUESTS_TOPIC, description="Requests to start a workflow run"),
        Topic(name=TASK_RESULTS_TOPIC, description="Agents report finished tasks here"),
        Topic(name=DEAD_LETTERS_TOPIC, description="Messages that can never succeed"),
        Topic(name=SWEEPS_TOPIC, description="Ticks of the sweeper that finishes overdue runs"),
        Topic(name=BILLING_EVENTS_TOPIC, description="Stripe events for the workflows (churn)"),
        Topic(name=EVENTS_TOPIC, description="What the host app's users do (tracking API)"),
        Topic(name=SEGMENT_CHANGES_TOPIC, description="Users entering or leaving a segment"),
        Topic(name=SUPPORT_MESSAGES_TOPIC, description="Customers' messages for the support agent"),
        *(Topic(name=agent_topic(a), description=f"Tasks for the {a} agent") for a in ALL_AGENTS),
    ]
    pairs = [
        _pubsub_function(
            "supervisor-runs",
            "functions/supervisor",
            "on_run_request",
            RUN_REQUESTS_TOPIC,
            (*(agent_topic(a) for a in ALL_AGENTS), DEAD_LETTERS_TOPIC),
        ),
        # Moving a run to its next step publishes that step's tasks.
        _pubsub_function(
            "supervisor-results",
            "functions/supervisor",
            "on_task_result",
            TASK_RESULTS_TOPIC,
            (*(agent_topic(a) for a in ALL_AGENTS), DEAD_LETTERS_TOPIC),
        ),
        # A Stripe cancellation asks for a win-back run.
        _pubsub_function(
            "supervisor-billing",
            "functions/supervisor",
            "on_billing_event",
            BILLING_EVENTS_TOPIC,
            (RUN_REQUESTS_TOPIC, DEAD_LETTERS_TOPIC),
        ),
    ]
    for agent in ALL_AGENTS:
        function, subscription = _pubsub_function(
            f"agent-{agent}",
            f"functions/agents/{agent}",
            "on_task",
            agent_topic(agent),
            # The leads agent runs the segments job, which announces membership changes.
            (TASK_RESULTS_TOPIC, DEAD_LETTERS_TOPIC)
            + ((SEGMENT_CHANGES_TOPIC,) if agent == "leads" else ()),
            timeout_s=120,
            memory_mb=1024,
        )
        pairs.append((function, subscription))
    # Customers' messages from the platform webhooks and the site chat: the support agent
    # answers or hands off each one (its own function, deployed from agent-support's source).
    pairs.append(
        _pubsub_function(
            "support-messages",
            "functions/agents/support",
            "on_support_message",
            SUPPORT_MESSAGES_TOPIC,
            (DEAD_LETTERS_TOPIC,),
            timeout_s=120,
            memory_mb=1024,
        )
    )
    dead_letter_function, dead_letter_subscription = _pubsub_function(
        "supervisor-dead-letters",
        "functions/supervisor",
        "on_dead_letter",
        DEAD_LETTERS_TOPIC,
        tuple(agent_topic(a) for a in ALL_AGENTS),
    )
    # Whatever dies lands here; this consumer records it on its run and fails the task. It
    # has no dead-letter topic of its own: it retries with backoff until it has recorded.
    pairs.append(
        (
            dead_letter_function,
            dead_letter_subscription.model_copy(
                update={
                    "dead_letter_topic": None,
                    "retry": RetryPolicy(minimum_backoff_s=1, maximum_backoff_s=60),
                }
            ),
        )
    )
    pairs.append(
        _pubsub_function(
            "supervisor-sweeper",
            "functions/supervisor",
            "on_sweep",
            SWEEPS_TOPIC,
            (*(agent_topic(a) for a in ALL_AGENTS), SEGMENT_CHANGES_TOPIC),
        )
    )
    # Tracked events update users' profiles; each message carries one request's events.
    pairs.append(
        _pubsub_function(
            "profiles",
            "functions/profiles",
            "on_events",
            EVENTS_TOPIC,
            (SEGMENT_CHANGES_TOPIC, DEAD_LETTERS_TOPIC),
        )
    )
    # A user entering a segment whose definition names a workflow asks for a run of it.
    pairs.append(
        _pubsub_function(
            "supervisor-segments",
            "functions/supervisor",
            "on_segment_change",
            SEGMENT_CHANGES_TOPIC,
            (RUN_REQUESTS_TOPIC, DEAD_LETTERS_TOPIC),
        )
    )
    http_functions = [
        Function(
            name="webhooks",
            source="functions/webhooks",
            entry_point="handle_webhook",
            trigger=Trigger.HTTP,
            concurrency=80,
            publishes_to=(
                RUN_REQUESTS_TOPIC,
                SUPPORT_MESSAGES_TOPIC,
                BILLING_EVENTS_TOPIC,
                EVENTS_TOPIC,
            ),
        ),
        Function(
            name="status",
            source="functions/status",
            entry_point="status_page",
            trigger=Trigger.HTTP,
            concurrency=80,
            # The site chat page hands visitors' messages to the support agent; approvals,
            # retries and cancellations go to the supervisor as run commands.
            publishes_to=(SUPPORT_MESSAGES_TOPIC, RUN_REQUESTS_TOPIC),
        ),
    ]
    keep_dead_letters = Subscription(
        name="dead-letters-keep",
        topic=DEAD_LETTERS_TOPIC,
        dead_letter_topic=None,
        retain_days=7,
    )
    schedules = [
        Schedule(
            name="weekly-gtm",
            cron="0 8 * * 1",
            time_zone="Europe/Paris",
            topic=RUN_REQUESTS_TOPIC,
            payload={"workflow": "weekly_gtm", "trigger": "schedule", "params": {}},
            attributes={"kind": "run_request"},
            description="Monday 08:00 Paris: the weekly go-to-market report",
        ),
        Schedule(
            name="weekly-growth",
            cron="0 7 * * 1",
            time_zone="Europe/Paris",
            topic=RUN_REQUESTS_TOPIC,
            payload={"workflow": "growth", "trigger": "schedule", "params": {}},
            attributes={"kind": "run_request"},
            description="Monday 07:00 Paris: segments, lead scores and campaign proposals",
        ),
        Schedule(
            name="daily-ad-performance",
            cron="15 6 * * *",
            time_zone="UTC",
            topic=RUN_REQUESTS_TOPIC,
            payload={"workflow": "ad_performance", "trigger": "schedule", "params": {}},
            attributes={"kind": "run_request"},
            description="Daily 06:15 UTC: yesterday's ad figures, reallocations for approval",
        ),
        Schedule(
            name="sweep-overdue-runs",
            cron="*/5 * * * *",
            time_zone="UTC",
            topic=SWEEPS_TOPIC,
            payload={},
            attributes={"kind": "sweep"},
            description="Every 5 minutes: fail what is unfinished past its run's deadline",
        ),
        Schedule(
            name="kb-reindex",
            cron="30 2 * * *",
            time_zone="Europe/Paris",
            topic=SWEEPS_TOPIC,
            payload={},
            attributes={"kind": "kb_reindex"},
            description="Nightly: re-index the knowledge base (only changed articles rewritten)",
        ),
        Schedule(
            name="segments-refresh",
            cron="5 * * * *",
            time_zone="UTC",
            topic=SWEEPS_TOPIC,
            payload={},
            attributes={"kind": "segments_refresh"},
            description="Hourly: re-evaluate every user's segments (time windows expire)",
        ),
        Schedule(
            name="recommendations-refresh",
            cron="35 * * * *",
            time_zone="UTC",
            topic=SWEEPS_TOPIC,
            payload={},
            attributes={"kind": "recommendations_refresh"},
            description="Hourly: item-to-item recommendations for every user, from behaviour",
        ),
    ]
    return Topology(
        topics=tuple(topics),
        subscriptions=(*(s for _, s in pairs), keep_dead_letters),
        functions=(*(f for f, _ in pairs), *http_functions),
        schedules=tuple(schedules),
    )


TOPOLOGY = build_topology()
