"""Trace context in message attributes, the local span file, and trace ids in log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.core.envelope import Delivery
from shared.core.log import CloudLoggingFormatter
from shared.core.tracing import (
    JsonlSpanExporter,
    configure_tracing,
    current_ids,
    extract,
    inject,
    span,
)


@pytest.fixture
def finished() -> Iterator[InMemorySpanExporter]:
    """The spans this test finishes (the process's provider, exporting nothing else)."""
    provider = configure_tracing("unit-tests", "none", None)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def test_outside_a_span_no_trace_context_is_added() -> None:
    assert inject({"kind": "agent_task"}) == {"kind": "agent_task"}
    assert current_ids() is None


def test_a_message_published_in_a_span_carries_it_to_the_consumer(
    finished: InMemorySpanExporter,
) -> None:
    with span("publish agent-finance", kind=SpanKind.PRODUCER) as producer:
        attributes = inject({"kind": "agent_task", "run_id": "r1"})
    delivery = Delivery(message_id="m1", data=b"{}", attributes=attributes)
    assert delivery.traceparent is not None
    with span("agent-finance process", kind=SpanKind.CONSUMER, parent=extract(attributes)):
        ids = current_ids()

    published, consumed = finished.get_finished_spans()
    assert attributes["run_id"] == "r1"
    assert ids is not None and ids[0] == format(producer.get_span_context().trace_id, "032x")
    assert consumed.parent is not None
    assert consumed.parent.span_id == published.context.span_id
    assert consumed.context.trace_id == published.context.trace_id


def test_a_failure_is_recorded_with_its_pii_masked(finished: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), span("agent-support process"):
        raise ValueError("cannot reply to ana@example.org at +44 20 7946 0958")

    [failed] = finished.get_finished_spans()
    [event] = failed.events
    assert failed.status.status_code.name == "ERROR"
    assert event.attributes is not None
    assert event.attributes["exception.message"] == "cannot reply to <EMAIL_1> at <PHONE_1>"
    assert "ana@example.org" not in json.dumps(failed.to_json())


def test_the_local_exporter_writes_one_json_line_per_span_with_its_parent(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "traces.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(path)))
    tracer = provider.get_tracer("test")

    with (
        tracer.start_as_current_span("POST /webhooks/generic", kind=SpanKind.SERVER),
        tracer.start_as_current_span("publish agent-support", kind=SpanKind.PRODUCER),
    ):
        pass
    provider.shutdown()

    child, root = (json.loads(line) for line in path.read_text().splitlines())
    assert (root["name"], root["kind"], root["parent_span_id"]) == (
        "POST /webhooks/generic",
        "SERVER",
        None,
    )
    assert child["parent_span_id"] == root["span_id"] and child["trace_id"] == root["trace_id"]
    assert len(root["trace_id"]) == 32 and child["end_ns"] >= child["start_ns"]


def test_a_log_line_in_a_span_carries_the_trace_beside_the_run_and_task(
    finished: InMemorySpanExporter,
) -> None:
    from shared.core.log import log_context

    formatter = CloudLoggingFormatter("agent-finance", project="demo-project")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "wrote", (), None)
    outside = json.loads(formatter.format(record))
    with span("agent-finance process"), log_context(run_id="r1", task_id="finance"):
        ids = current_ids()
        inside = json.loads(formatter.format(record))

    assert "trace_id" not in outside
    assert ids is not None
    assert (inside["trace_id"], inside["span_id"]) == ids
    assert (inside["run_id"], inside["task_id"]) == ("r1", "finance")
    assert inside["logging.googleapis.com/trace"] == f"projects/demo-project/traces/{ids[0]}"
    assert inside["logging.googleapis.com/spanId"] == ids[1]
