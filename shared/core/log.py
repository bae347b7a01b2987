"""JSON log lines in Cloud Logging's structured format, carrying trace, run and task ids.

Inside a span (shared/core/tracing.py) each line has `trace_id` and `span_id`, and, when the
project is known, Cloud Logging's own `logging.googleapis.com/trace` and `.../spanId` fields,
so the Logs Explorer shows a line under its trace in Cloud Trace.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

_EMPTY: dict[str, str] = {}
# Never mutated: log_context() always sets a fresh merged dict.
_log_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "controlroom_log_context", default=_EMPTY
)


class CloudLoggingFormatter(logging.Formatter):
    """Formats a record as one JSON object that Cloud Logging parses into fields."""

    def __init__(self, service: str, project: str | None = None) -> None:
        super().__init__()
        self.service = service
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            "service": self.service,
            "logging.googleapis.com/labels": dict(_log_context.get()),
        }
        entry.update(_log_context.get())
        entry.update(self._trace_fields())
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    def _trace_fields(self) -> dict[str, Any]:
        context = trace.get_current_span().get_span_context()
        if not context.is_valid:
            return {}
        trace_id, span_id = format(context.trace_id, "032x"), format(context.span_id, "016x")
        fields: dict[str, Any] = {"trace_id": trace_id, "span_id": span_id}
        if self.project:
            fields["logging.googleapis.com/trace"] = f"projects/{self.project}/traces/{trace_id}"
            fields["logging.googleapis.com/spanId"] = span_id
            fields["logging.googleapis.com/trace_sampled"] = context.trace_flags.sampled
        return fields


def configure_logging(service: str, level: str = "INFO", project: str | None = None) -> None:
    """Send every log record to stdout as structured JSON (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, CloudLoggingFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(service, project))
    root.addHandler(handler)
    root.setLevel(level)
    # bm25s sets its own logger to DEBUG at import; its progress lines are noise here.
    logging.getLogger("bm25s").setLevel(logging.WARNING)


@contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """Attach ids (run_id, task_id, ...) to every log line written inside the block."""
    merged = {**_log_context.get(), **{k: v for k, v in ids.items() if v}}
    token = _log_context.set(merged)
    try:
        yield
    finally:
        _log_context.reset(token)
