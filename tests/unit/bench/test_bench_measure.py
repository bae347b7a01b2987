"""The benchmark runner's pure helpers: percentiles, the table, the JSON, suite selection,
the child-process memory readers and the requests the suites send."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from bench.ingest import accepted
from bench.local import (
    BARE_EVENT,
    BARE_HTTP,
    KEPT_SETTINGS,
    WEBHOOK_SECRETS,
    bare_like,
    cloud_event,
    generic_webhook,
    scrub_environment,
)
from bench.measure import (
    BenchReport,
    BenchRun,
    CaseResult,
    child_peak_rss_kb,
    format_value,
    parse_proc_status,
    percentile,
    process_group,
    ratio,
    render_table,
    write_results,
)
from bench.run import SUITES, select_suites
from shared.core.envelope import delivery_from_cloud_event, parse_message
from shared.core.messages import RunRequest
from shared.core.topology import TOPOLOGY
from shared.security.signatures import verify_webhook


def make_case(**fields: Any) -> CaseResult:
    values: dict[str, Any] = {
        "suite": "ingest",
        "case": "webhook ingest",
        "baseline": "bare FF 200",
        "figure": "msg/s",
        "ours_value": 120.0,
        "baseline_value": 600.0,
        "ratio": 0.2,
        "agreement": "all accepted",
        "agreement_ok": True,
        "notes": "150 messages",
        "details": {},
    }
    return CaseResult.model_validate({**values, **fields})


@pytest.mark.parametrize("q", [0, 5, 50, 90, 95, 99, 100])
def test_percentile_interpolates_between_ranks_as_numpy_does(q: float) -> None:
    values = [0.3, 0.1, 0.9, 0.4, 0.2, 1.5, 0.05]

    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_refuses_nothing_and_out_of_range() -> None:
    assert percentile([2.0], 95) == 2.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], 101)


def test_ratio_is_none_without_a_baseline() -> None:
    assert ratio(3.0, 1.5) == 2.0
    assert ratio(3.0, 0.0) is None
    assert ratio(3.0, None) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "-"),
        (0, "0.00"),
        (1234.5, "1,234"),
        (45.67, "45.7"),
        (2.345, "2.35"),
        (0.01234, "0.0123"),
    ],
)
def test_figures_are_shown_with_about_three_significant_digits(
    value: float | None, shown: str
) -> None:
    assert format_value(value) == shown


def test_the_table_shows_goals_mismatches_and_missing_baselines() -> None:
    cases = [
        make_case(goal="ratio >= 0.5", goal_met=False),
        make_case(case="met", ratio=0.6, goal="ratio >= 0.5", goal_met=True),
        make_case(case="wrong", agreement="2 stored", agreement_ok=False),
        make_case(case="absolute", baseline_value=None, ratio=None, baseline="none (absolute)"),
    ]

    lines = render_table(cases).splitlines()

    assert lines[0].split()[:6] == ["suite", "case", "figure", "ours", "baseline", "ratio"]
    assert set(lines[1]) == {"-"}
    assert "ratio >= 0.5: MISSED" in lines[2] and "0.20x" in lines[2]
    assert "ratio >= 0.5: met" in lines[3]
    assert "MISMATCH: 2 stored" in lines[4]
    assert "n/a" in lines[5] and " - " in lines[5]
    # The value columns are right-aligned: every row's ratio ends in the same column.
    ends = {line.index("x  ") for line in lines[2:5]}
    assert len(ends) == 1


def test_a_run_is_written_once_stamped_and_once_as_latest(tmp_path: Path) -> None:
    started = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    report = BenchReport(
        suite="ingest",
        started_at=started,
        wall_seconds=2.0,
        quick=True,
        parameters={},
        environment={},
        cases=(make_case(),),
    )
    run = BenchRun(
        started_at=started,
        wall_seconds=3.0,
        quick=True,
        environment={"cpu_count": 2},
        reports=(report,),
        pending={"fan-out": "later"},
    )

    stamped, latest = write_results(run, tmp_path)

    assert stamped.name == "bench-20261116T080000Z.json"
    document = json.loads(latest.read_text())
    assert document == json.loads(stamped.read_text())
    assert document["reports"][0]["cases"][0]["figure"] == "msg/s"
    assert document["pending"] == {"fan-out": "later"}
    assert BenchRun.model_validate(document).cases == run.cases


def test_proc_status_fields_are_read_in_kilobytes() -> None:
    text = "Name:\tpython\nVmHWM:\t  123456 kB\nVmRSS:\t   99 kB\nThreads:\t4\n"

    assert parse_proc_status(text) == {"VmHWM": 123456.0, "VmRSS": 99.0}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_this_process_is_found_in_its_group_with_a_peak() -> None:
    assert os.getpid() in process_group(os.getpgid(0))
    peak = child_peak_rss_kb(os.getpid())
    assert peak is not None and peak > 0
    assert child_peak_rss_kb(2**22 + 7) is None  # above any pid_max: no such process


def test_suites_are_selected_by_name_and_fan_out_is_a_named_pending_hook() -> None:
    assert [s.name for s in select_suites(["ingest,retrieval", "llm-cost"])] == [
        "retrieval",
        "llm-cost",
        "ingest",
    ]
    assert len(select_suites(None)) == len(SUITES)
    with pytest.raises(SystemExit, match="unknown suite"):
        select_suites(["ingest,nope"])
    assert [s.name for s in SUITES if s.run is None] == []


def test_the_environment_loses_every_setting_but_prices_and_models() -> None:
    environ = {
        "CONTROLROOM_LLM_OPENAI_API_KEY": "sk-secret",
        "CONTROLROOM_LLM_PRICES": "{}",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:1",
        "HOME": "/root",
        **dict.fromkeys(KEPT_SETTINGS, "{}"),
    }

    dropped = scrub_environment(environ)

    assert dropped == ["CONTROLROOM_LLM_OPENAI_API_KEY", "FIRESTORE_EMULATOR_HOST"]
    assert set(environ) == {"HOME", *KEPT_SETTINGS}


def test_bare_functions_take_the_signature_and_concurrency_they_stand_in_for() -> None:
    webhooks = TOPOLOGY.function("webhooks")
    agent = TOPOLOGY.function("agent-insights")

    assert bare_like(webhooks) == BARE_HTTP.model_copy(update={"concurrency": webhooks.concurrency})
    assert bare_like(agent).signature == "cloudevent" == BARE_EVENT.signature
    assert bare_like(agent).concurrency == agent.concurrency
    assert Path(BARE_HTTP.source, "main.py").exists()


def test_a_hand_made_cloud_event_reads_back_as_the_message() -> None:
    message = RunRequest(workflow="weekly_gtm", trigger="schedule", run_id="bench-123456")

    headers, body = cloud_event("controlroom-bench", message)
    delivery = delivery_from_cloud_event(headers["ce-id"], json.loads(body))

    assert headers["ce-type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert parse_message(delivery, RunRequest) == message
    assert delivery.delivery_attempt == 1


def test_the_site_chat_message_is_signed_as_the_webhooks_function_checks_it() -> None:
    now = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)

    body, headers = generic_webhook("m-1", "Where is my order?", int(now.timestamp()))

    verify_webhook("generic", headers, body, WEBHOOK_SECRETS, now)
    assert json.loads(body)["message_id"] == "m-1"


def test_only_a_taken_message_counts_as_accepted() -> None:
    assert accepted(httpx.Response(200, json={"accepted": 1, "duplicates": 0}))
    assert not accepted(httpx.Response(200, json={"accepted": 0, "duplicates": 1}))
    assert not accepted(httpx.Response(401, json={"error": "bad signature"}))
    assert not accepted(httpx.Response(200, text="ok"))
