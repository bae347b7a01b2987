"""Aggregating a finished run's task outputs into one report (pure)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markdown_it import MarkdownIt

from shared.core.documents import Artifact, RunDoc, TaskDoc
from shared.core.models import TaskStatus

REPORT_ARTIFACT = "report.md"
REPORT_HTML_ARTIFACT = "report.html"
NUMBERS_JSON_ARTIFACT = "numbers.json"
NUMBERS_CSV_ARTIFACT = "numbers.csv"


@dataclass(frozen=True)
class RunReport:
    """The run's one-paragraph summary, its Markdown report and the other formats."""

    summary: str
    artifact: Artifact
    others: tuple[Artifact, ...] = field(default_factory=tuple)

    @property
    def artifacts(self) -> tuple[Artifact, ...]:
        """Every artifact of the report: Markdown, HTML, numbers as JSON and CSV."""
        return (self.artifact, *self.others)


def numbers_rows(tasks: list[TaskDoc]) -> list[tuple[str, str, Any]]:
    """(agent, metric path, value) for every scalar figure the agents computed."""
    rows: list[tuple[str, str, Any]] = []

    def walk(agent: str, path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(agent, f"{path}.{key}" if path else str(key), item)
        elif isinstance(value, list | tuple):
            return  # series and lists stay in the JSON; the CSV keeps the headline figures
        else:
            rows.append((agent, path, value))

    for task in sorted(tasks, key=lambda t: t.agent):
        if task.output and isinstance(task.output.get("report"), dict):
            walk(task.agent, "", task.output["report"])
    return rows


def build_run_report(run: RunDoc, tasks: list[TaskDoc], now: datetime) -> RunReport:
    """One section per agent: its prose summary, or the reason it failed."""
    sections = []
    headlines = []
    for task in sorted(tasks, key=lambda t: t.agent):
        if task.status is TaskStatus.SUCCEEDED and task.output:
            summary = str(task.output.get("summary", "")).strip()
            headline = str(task.output.get("headline", "")).strip()
            sections.append(f"## {task.agent.title()}\n\n{summary}\n")
            if headline:
                headlines.append(f"{task.agent.title()}: {headline}")
        else:
            sections.append(f"## {task.agent.title()}\n\nNo result: {task.error}\n")
            headlines.append(f"{task.agent.title()}: failed")
    offline = any((t.output or {}).get("offline") for t in tasks)
    note = "\n_Prose written by the offline provider from computed figures._\n" if offline else ""
    title = f"# {run.workflow.replace('_', ' ').title()} — run {run.run_id}\n"
    content = "\n".join([title, f"Generated {now:%Y-%m-%d %H:%M} UTC.\n{note}", *sections])
    artifact = Artifact(
        name=REPORT_ARTIFACT, content_type="text/markdown", content=content, created_at=now
    )
    html = MarkdownIt("commonmark", {"html": False}).render(content)
    numbers = {
        t.agent: (t.output or {}).get("report") for t in sorted(tasks, key=lambda t: t.agent)
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["agent", "metric", "value"])
    writer.writerows(numbers_rows(tasks))
    others = (
        Artifact(name=REPORT_HTML_ARTIFACT, content_type="text/html", content=html, created_at=now),
        Artifact(
            name=NUMBERS_JSON_ARTIFACT,
            content_type="application/json",
            content=json.dumps(numbers, indent=2, sort_keys=True, default=str),
            created_at=now,
        ),
        Artifact(
            name=NUMBERS_CSV_ARTIFACT,
            content_type="text/csv",
            content=buffer.getvalue(),
            created_at=now,
        ),
    )
    return RunReport(summary=" | ".join(headlines), artifact=artifact, others=others)
