"""Aggregating a finished run's task outputs into one report (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.models import Artifact, RunDoc, TaskDoc, TaskStatus

REPORT_ARTIFACT = "report.md"


@dataclass(frozen=True)
class RunReport:
    """The run's one-paragraph summary and its full Markdown artifact."""

    summary: str
    artifact: Artifact


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
    return RunReport(summary=" | ".join(headlines), artifact=artifact)
