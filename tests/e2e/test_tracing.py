"""One trace follows a piece of work across function processes and Pub/Sub, in the local cloud.

Every function appends its finished spans to the cloud's traces.jsonl (the local exporter);
the test rebuilds the span tree from that file and the log lines from the functions' logs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulators.cloud import LocalCloud
from emulators.demo import create_schedules, seed_knowledge_base, send_chat_message
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.scheduler_client import scheduler_client
from tests.e2e.conftest import start_run_via_api, wait_for_run
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e

Span = dict[str, Any]
AGENTS = ("finance", "insights", "marketing", "support")


def _spans(path: Path) -> list[Span]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _one(spans: list[Span], match: Callable[[Span], bool], what: str) -> Span:
    found = [s for s in spans if match(s)]
    assert len(found) == 1, f"expected one {what}, found {len(found)}: {found}"
    return found[0]


def _children(spans: list[Span], parent: Span, name: str) -> list[Span]:
    return [s for s in spans if s["parent_span_id"] == parent["span_id"] and s["name"] == name]


def _trace_of(spans: list[Span], root_name: str, complete: Callable[[list[Span]], bool]) -> Any:
    roots = [s for s in spans if s["name"] == root_name and s["parent_span_id"] is None]
    for root in roots:
        members = [s for s in spans if s["trace_id"] == root["trace_id"]]
        if complete(members):
            return members
    return None


def test_a_site_chat_message_is_one_trace_from_the_webhook_to_the_support_answer(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    seed_knowledge_base(cloud)

    send_chat_message(cloud, "trace-1", "How do I reset my password?")
    trace = wait_for(
        lambda: _trace_of(
            _spans(cloud.trace_file),
            "POST /webhooks/generic",
            lambda members: any(s["name"] == "support-messages process" for s in members),
        ),
        30,
        "the webhook's trace to reach support-messages",
    )

    root = _one(trace, lambda s: s["parent_span_id"] is None, "root")
    [publish] = _children(trace, root, "publish support-messages")
    [consumer] = _children(trace, publish, "support-messages process")
    llm_calls = [s for s in trace if s["name"].startswith("llm ")]
    assert (root["service"], root["kind"]) == ("webhooks", "SERVER")
    assert root["attributes"]["http.response.status_code"] == 200
    assert (publish["service"], publish["kind"]) == ("webhooks", "PRODUCER")
    assert (consumer["service"], consumer["kind"]) == ("support-messages", "CONSUMER")
    assert consumer["status"] == "UNSET"
    assert llm_calls and all(s["service"] == "support-messages" for s in llm_calls)
    # Every span of the trace hangs off the root: no orphan, no second root.
    by_id = {s["span_id"]: s for s in trace}
    for s in trace:
        node = s
        while node["parent_span_id"] is not None:
            node = by_id[node["parent_span_id"]]
        assert node is root, f"{s['name']} does not lead back to the webhook"


def test_a_weekly_run_is_one_trace_from_the_request_through_every_agent_and_back(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    run_id = start_run_via_api(cloud)
    assert wait_for_run(store, run_id).status.value == "succeeded"

    def complete(members: list[Span]) -> bool:
        done = [s for s in members if s["name"] == "supervisor-results process"]
        return len(done) == len(AGENTS) and all(
            s["attributes"].get("controlroom.run_id") == run_id for s in done
        )

    trace = wait_for(
        lambda: _trace_of(_spans(cloud.trace_file), "POST /runs", complete),
        20,
        "the run's trace to reach every task result",
    )

    root = _one(trace, lambda s: s["parent_span_id"] is None, "root")
    [to_supervisor] = _children(trace, root, "publish run-requests")
    [supervisor] = _children(trace, to_supervisor, "supervisor-runs process")
    for agent in AGENTS:
        [to_agent] = _children(trace, supervisor, f"publish agent-{agent}")
        [work] = _children(trace, to_agent, f"agent-{agent} process")
        [result] = _children(trace, work, "publish task-results")
        [gathered] = _children(trace, result, "supervisor-results process")
        assert work["service"] == f"agent-{agent}"
        assert work["attributes"]["controlroom.task_id"] == agent
        assert gathered["service"] == "supervisor-results"
        assert any(s["name"].startswith("llm ") for s in _children_any(trace, work))

    # The agents' log lines carry the trace id beside the run and task ids.
    log = (cloud.log_dir / "agent-finance.log").read_text().splitlines()
    entries = [json.loads(line) for line in log if line.startswith("{")]
    traced = [e for e in entries if e.get("run_id") == run_id]
    assert traced and all(
        e.get("trace_id") == root["trace_id"] and e.get("task_id") == "finance" for e in traced
    )


def _children_any(spans: list[Span], parent: Span) -> list[Span]:
    return [s for s in spans if s["parent_span_id"] == parent["span_id"]]


def test_a_scheduled_sweep_is_traced_as_the_sweeper_consuming_it(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    job_name = next(
        name for name in create_schedules(cloud) if name.endswith("/sweep-overdue-runs")
    )
    seen = {s["span_id"] for s in _spans(cloud.trace_file)}

    scheduler_client(cloud.scheduler_address).run_job(name=job_name)
    sweep = wait_for(
        lambda: [
            s
            for s in _spans(cloud.trace_file)
            if s["name"] == "supervisor-sweeper process" and s["span_id"] not in seen
        ],
        30,
        "the sweeper's consumer span",
    )

    [span] = sweep
    assert (span["service"], span["kind"], span["status"]) == (
        "supervisor-sweeper",
        "CONSUMER",
        "UNSET",
    )
    assert span["attributes"]["controlroom.kind"] == "sweep"
