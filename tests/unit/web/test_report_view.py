"""The report page's content, built from what the agents really compute on the sample data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.adapters.sample_source import generate_sample_dataset
from shared.agents import finance, insights, marketing, support
from shared.core.agent_settings import resolve_agent_settings
from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import TaskStatus
from shared.web.formats import MINUS, TIMES, change, money, month_name, multiple, percent
from shared.web.report_charts import Band, Line, heat_map, line_chart
from shared.web.report_view import build_report_view

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
AGENTS = {"finance": finance, "marketing": marketing, "insights": insights, "support": support}


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    dataset = generate_sample_dataset()
    return {
        name: module.analyse(dataset, dict(resolve_agent_settings(name).policy.values)).model_dump(
            mode="json"
        )
        for name, module in AGENTS.items()
    }


def _run() -> RunDoc:
    return RunDoc(
        run_id="weekly_gtm-1", workflow="weekly_gtm", trigger="api", task_count=4, created_at=NOW
    )


def _task(agent: str, report: dict[str, Any] | None, failed: str | None = None) -> TaskDoc:
    if failed:
        return TaskDoc(
            run_id="weekly_gtm-1", task_id=agent, agent=agent, created_at=NOW,
            status=TaskStatus.FAILED, error=failed,
        )  # fmt: skip
    return TaskDoc(
        run_id="weekly_gtm-1", task_id=agent, agent=agent, created_at=NOW,
        status=TaskStatus.SUCCEEDED,
        output={"summary": f"The **{agent}** prose.", "report": report, "offline": True},
    )  # fmt: skip


def test_the_headlines_are_the_figures_an_owner_looks_for_with_their_currency(
    reports: dict[str, dict[str, Any]],
) -> None:
    view = build_report_view(_run(), [_task(a, r) for a, r in reports.items()], "Weekly report")
    rows = {h.label: h for h in view.headlines}
    latest = reports["finance"]["revenue"]["latest_complete_month"]

    assert view.title == "Weekly report — 7 December 2026"
    assert view.period == "Figures to 16 November 2026, the last day of the data."
    assert rows[f"Revenue, {month_name(latest['month'])}"].value == money(
        latest["revenue_cents"], "EUR"
    )
    assert rows["Monthly recurring revenue"].value.startswith("€")
    assert rows["Best channel"].value == reports["marketing"]["acquisition"]["best_channel"]
    assert rows["Worst channel"].detail.endswith(TIMES)
    assert rows["Churned customers"].value == str(reports["insights"]["segments"]["churned_count"])
    assert "Support tickets, last 7 days" in rows
    assert any(label.startswith("Revenue forecast") for label in rows)
    # No bare amounts: every money figure carries its currency.
    for h in view.headlines:
        assert not re.search(r"(?<![€\d,.])\d{1,3}(,\d{3})*\.\d{2}(?!\u00d7|%)", h.value), h


def test_each_agent_section_has_its_prose_charts_and_the_tables_behind_them(
    reports: dict[str, dict[str, Any]],
) -> None:
    view = build_report_view(_run(), [_task(a, r) for a, r in reports.items()], "Weekly report")
    by_agent = {s.agent: s for s in view.sections}

    assert [s.agent for s in view.sections] == ["finance", "marketing", "insights", "support"]
    assert "<strong>finance</strong>" in by_agent["finance"].prose
    assert [f.title.split(" (")[0] for f in by_agent["insights"].figures] == [
        "Customers by RFM segment",
        "Retention by monthly cohort",
    ]
    for section in view.sections:
        assert section.figures and all("<svg" in f.chart for f in section.figures)
    channels = reports["marketing"]["acquisition"]["channels"]
    [roas] = by_agent["marketing"].figures
    assert roas.table is not None and len(roas.table.rows) == len(channels)
    [revenue] = by_agent["finance"].figures
    assert "<polygon" in revenue.chart  # the forecast interval is drawn


def test_a_failed_agent_says_why_and_an_unknown_one_keeps_its_prose(
    reports: dict[str, dict[str, Any]],
) -> None:
    tasks = [_task("finance", None, failed="gave up after 5 attempts"), _task("seo", {"x": 1})]
    view = build_report_view(_run(), tasks, "Weekly report")
    by_agent = {s.agent: s for s in view.sections}

    assert by_agent["finance"].error == "gave up after 5 attempts"
    assert by_agent["seo"].figures == [] and "seo" in by_agent["seo"].prose
    assert view.headlines == []


def test_prose_is_rendered_without_raw_html() -> None:
    task = _task("finance", None)
    task = task.model_copy(update={"output": {"summary": "<script>alert(1)</script> **bold**"}})
    [section] = build_report_view(_run(), [task], "Weekly report").sections

    assert "<script>" not in section.prose and "<strong>bold</strong>" in section.prose


def test_figures_read_as_a_person_writes_them() -> None:
    assert money(1499485, "EUR") == "€14,994.85"
    assert money(120, "usd") == "$1.20"
    assert percent(0.2433) == "24.3%"
    assert change(-0.1) == f"{MINUS}10.0%" and change(0.05) == "+5.0%"
    assert multiple(1.5155) == f"1.52{TIMES}"
    assert month_name("2026-10") == "October 2026"


def test_the_line_chart_leaves_gaps_and_shades_the_interval() -> None:
    chart = line_chart(
        "Revenue",
        ["Jan", "Feb", "Mar", "Apr"],
        [Line("Revenue", [1.0, 2.0, None, None]), Line("Forecast", [None, 2.0, 3.0, 4.0])],
        band=Band("Interval", [None, None, 2.5, 3.0], [None, None, 3.5, 5.0]),
    )

    assert chart.count("<polyline") == 2 and chart.count("<circle") == 5
    assert chart.count("<polygon") == 1 and "Mar: 2.5 to 3.5" in chart
    assert "No figures" in line_chart("Empty", [], [])


def test_the_heat_map_draws_one_cell_per_known_share() -> None:
    chart = heat_map("Retention", ["Jan", "Feb"], ["0", "1"], [[1.0, 0.4], [1.0, None]])

    assert chart.count("<rect") == 3 and "Jan, 1: 40%" in chart
