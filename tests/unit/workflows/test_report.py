"""The run report: one section per agent, a summary of headlines, and the offline note."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import TaskStatus
from shared.workflows.report import REPORT_ARTIFACT, build_run_report

NOW = datetime(2026, 11, 16, 8, 5, tzinfo=UTC)
OFFLINE_NOTE = "Prose written by the offline provider"


def run_doc() -> RunDoc:
    return RunDoc(
        run_id="run-20261116",
        workflow="weekly_gtm",
        trigger="schedule",
        task_count=3,
        created_at=datetime(2026, 11, 16, 8, 0, tzinfo=UTC),
    )


def succeeded(agent: str, headline: str, summary: str, offline: bool = True) -> TaskDoc:
    output: dict[str, Any] = {"summary": summary, "headline": headline, "offline": offline}
    return TaskDoc(
        run_id="run-20261116",
        task_id=f"task-{agent}",
        agent=agent,
        status=TaskStatus.SUCCEEDED,
        output=output,
        created_at=NOW,
    )


def failed(agent: str, error: str) -> TaskDoc:
    return TaskDoc(
        run_id="run-20261116",
        task_id=f"task-{agent}",
        agent=agent,
        status=TaskStatus.FAILED,
        error=error,
        created_at=NOW,
    )


def test_summary_joins_headlines_in_agent_order() -> None:
    tasks = [
        succeeded("marketing", "best channel email", "Marketing prose."),
        succeeded("finance", "revenue €14,994.85", "Finance prose."),
        succeeded("support", "24 tickets", "Support prose."),
    ]

    report = build_run_report(run_doc(), tasks, NOW)

    assert report.summary == (
        "Finance: revenue €14,994.85 | Marketing: best channel email | Support: 24 tickets"
    )


def test_artifact_has_a_section_per_agent_in_order() -> None:
    tasks = [
        succeeded("support", "24 tickets", "Support prose."),
        succeeded("finance", "revenue €14,994.85", "Finance prose."),
    ]

    report = build_run_report(run_doc(), tasks, NOW)

    content = report.artifact.content
    assert content.startswith("# Weekly Gtm — run run-20261116\n")
    assert "Generated 2026-11-16 08:05 UTC." in content
    assert content.index("## Finance\n\nFinance prose.") < content.index(
        "## Support\n\nSupport prose."
    )
    assert (report.artifact.name, report.artifact.content_type) == (
        REPORT_ARTIFACT,
        "text/markdown",
    )
    assert report.artifact.created_at == NOW


def test_failed_task_shows_its_error_and_failed_in_the_summary() -> None:
    tasks = [
        succeeded("finance", "revenue €14,994.85", "Finance prose."),
        failed("marketing", "InjectedOutage: injected data source outage"),
    ]

    report = build_run_report(run_doc(), tasks, NOW)

    assert report.summary == "Finance: revenue €14,994.85 | Marketing: failed"
    assert (
        "## Marketing\n\nNo result: InjectedOutage: injected data source outage"
        in report.artifact.content
    )


def test_offline_note_present_when_an_output_is_offline() -> None:
    tasks = [
        succeeded("finance", "h", "s", offline=False),
        succeeded("support", "h", "s", offline=True),
    ]

    report = build_run_report(run_doc(), tasks, NOW)

    assert OFFLINE_NOTE in report.artifact.content


def test_offline_note_absent_when_no_output_is_offline() -> None:
    tasks = [
        succeeded("finance", "h", "s", offline=False),
        failed("support", "boom"),
    ]

    report = build_run_report(run_doc(), tasks, NOW)

    assert OFFLINE_NOTE not in report.artifact.content


def test_task_without_a_headline_is_left_out_of_the_summary() -> None:
    tasks = [
        succeeded("finance", "", "Finance prose."),
        succeeded("support", "24 tickets", "Support prose."),
    ]

    report = build_run_report(run_doc(), tasks, NOW)

    assert report.summary == "Support: 24 tickets"
    assert "## Finance\n\nFinance prose." in report.artifact.content
