"""OpenTelemetry traces that follow one piece of work across functions, Pub/Sub and vendors.

    HTTP request (webhooks, status)   server span; a W3C `traceparent` header is its parent
      └── publish <topic>             producer span; its context goes into the message's
            │                         `traceparent` attribute (W3C trace context)
            ▼  Pub/Sub
          <function> process          consumer span, child of the publishing span
            ├── llm <provider>        one per LLM call (model, tokens, cost, cached)
            ├── <vendor> <METHOD>     one per vendor HTTP call (no trace header sent out)
            └── publish <topic> ...   and so on down the run

`configure_tracing` installs the SDK once per process (the function processes call it
through `shared.wiring.services`). Exporters, chosen by `CONTROLROOM_TRACE_EXPORTER`:
`none` (ids are still made, propagated and logged; nothing is exported), `local` (one JSON
object per finished span appended to `CONTROLROOM_TRACE_FILE`; the local cloud sets it) and
`gcp` (Cloud Trace; its exporter package is imported only then). Without `configure_tracing`
every helper here is a cheap no-op, so unit tests and tools need nothing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.core.pii import PiiMask

TraceExporter = Literal["none", "local", "gcp"]
TRACEPARENT = "traceparent"
TRACER_NAME = "controlroom"
_PROPAGATOR = TraceContextTextMapPropagator()
_configured = threading.Lock()
_provider: TracerProvider | None = None


def configure_tracing(
    service: str, exporter: TraceExporter, trace_file: Path | None
) -> TracerProvider:
    """Install this process's tracer provider with the chosen exporter; the first call wins."""
    global _provider
    with _configured:
        if _provider is not None:
            return _provider
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        if exporter == "local":
            if trace_file is None:
                raise ValueError("CONTROLROOM_TRACE_FILE is required with the local exporter")
            # Synchronous: a span is on disk when it ends, even if the process is killed next.
            provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(trace_file)))
        elif exporter == "gcp":
            from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter

            provider.add_span_processor(BatchSpanProcessor(CloudTraceSpanExporter()))
        trace.set_tracer_provider(provider)
        _provider = provider
        _instrument_flask()
        return provider


def tracer() -> trace.Tracer:
    """The tracer every controlroom span comes from."""
    return trace.get_tracer(TRACER_NAME)


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int | float | bool | None] | None = None,
    parent: Context | None = None,
) -> Iterator[Span]:
    """A span around the block, current inside it; an escaping exception marks it failed."""
    clean = {k: v for k, v in (attributes or {}).items() if v is not None}
    # The SDK's own exception recording would copy the message and traceback, which may hold
    # customer text, into the span: mark_failed records a masked message instead.
    with tracer().start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=clean,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as error:
            mark_failed(current, error)
            raise


def inject(attributes: Mapping[str, str]) -> dict[str, str]:
    """`attributes` plus the current span's `traceparent`, when a span is active."""
    carrier = dict(attributes)
    _PROPAGATOR.inject(carrier)
    return carrier


def extract(attributes: Mapping[str, str]) -> Context:
    """The remote parent named by a `traceparent` in message attributes or headers."""
    return _PROPAGATOR.extract(carrier={k.lower(): v for k, v in attributes.items()})


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span as lowercase hex, or None outside a span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def mark_failed(current: Span, error: BaseException) -> None:
    """Record a handled failure on a span (an escaping exception is recorded by `span`)."""
    if not current.is_recording():
        return
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    message = PiiMask().mask(str(error))[:1000]
    current.add_event("exception", {"exception.type": kind, "exception.message": message})
    current.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {message}"[:300]))


class JsonlSpanExporter(SpanExporter):
    """Appends each finished span as one JSON line; several processes may share the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write the spans; one write() per line on an O_APPEND file keeps lines whole."""
        lines = [json.dumps(span_record(s), default=str) + "\n" for s in spans]
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                for line in lines:
                    os.write(fd, line.encode())
            finally:
                os.close(fd)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing is held open between exports."""


def span_record(s: ReadableSpan) -> dict[str, Any]:
    """A finished span as a flat JSON-able dict (the local exporter's line format)."""
    context = s.get_span_context()
    assert context is not None
    return {
        "name": s.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_span_id": format(s.parent.span_id, "016x") if s.parent else None,
        "kind": s.kind.name,
        "service": s.resource.attributes.get("service.name"),
        "start_ns": s.start_time,
        "end_ns": s.end_time,
        "status": s.status.status_code.name,
        "attributes": dict(s.attributes or {}),
    }


# --- HTTP functions ----------------------------------------------------------------------
# functions-framework builds the Flask app before our code runs, so the server span hangs
# on Flask's request signals, which fire for every app of the process. A Pub/Sub push is a
# CloudEvent request: its span is the consumer span made from the message's attributes.

_REQUEST_SPAN = "controlroom_request_span"


def _instrument_flask() -> None:
    import flask

    flask.request_started.connect(_on_request_started)
    flask.got_request_exception.connect(_on_request_exception)
    flask.request_finished.connect(_on_request_finished)
    flask.request_tearing_down.connect(_on_request_tearing_down)
    # The process configures tracing while handling its first request: trace that one too.
    if flask.has_request_context():
        _on_request_started(None)


def _on_request_started(sender: object, **_: object) -> None:
    import flask

    request = flask.request
    if "ce-id" in request.headers or request.mimetype == "application/cloudevents+json":
        return
    server_span = tracer().start_span(
        f"{request.method} {request.path}",
        context=extract(dict(request.headers)),
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": request.method,
            "url.path": request.path,
            "server.address": request.host,
        },
    )
    token = otel_context.attach(trace.set_span_in_context(server_span))
    setattr(flask.g, _REQUEST_SPAN, (server_span, token))


def _on_request_exception(sender: object, exception: BaseException, **_: object) -> None:
    import flask

    held = getattr(flask.g, _REQUEST_SPAN, None)
    if held is not None:
        mark_failed(held[0], exception)


def _on_request_finished(sender: object, response: Any, **_: object) -> None:
    import flask

    held = getattr(flask.g, _REQUEST_SPAN, None)
    if held is not None:
        status = int(response.status_code)
        held[0].set_attribute("http.response.status_code", status)
        if status >= 500:
            held[0].set_status(Status(StatusCode.ERROR, f"HTTP {status}"))


def _on_request_tearing_down(sender: object, **_: object) -> None:
    import flask

    held = getattr(flask.g, _REQUEST_SPAN, None)
    if held is None:
        return
    setattr(flask.g, _REQUEST_SPAN, None)
    server_span, token = held
    server_span.end()
    otel_context.detach(token)
