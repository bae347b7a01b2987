"""The run page's drawn workflow: every step a box coloured by its status, the branches kept."""

from __future__ import annotations

import re

from shared.app.run_steps import RunGraph, StepView
from shared.web.graph_svg import WAITING_NOTE, draw_run_graph
from shared.workflows.graph import workflow_outline


def _winback(approval: str) -> RunGraph:
    steps = (
        StepView("select", "Select customers", "tasks", "succeeded", 1, 1, 0),
        StepView("draft", "Draft the emails", "tasks", "partly failed", 5, 5, 1),
        StepView("estimate", "Estimate the return", "tasks", "succeeded", 1, 1, 0),
        StepView("approve", "A person approves", "approval", approval, 0, 0, 0),
        StepView("send", "Send", "tasks", "not started", 0, 0, 0),
    )
    return RunGraph(steps=steps, edges=workflow_outline("winback").edges, mermaid="")


def test_each_step_is_a_box_with_its_status_and_counts() -> None:
    svg = draw_run_graph(_winback("pending"))
    nodes = re.findall(r'<g class="node ([\w-]+)" data-step="(\w+)">', svg)

    assert nodes == [
        ("st-succeeded", "select"),
        ("st-partly-failed", "draft"),
        ("st-succeeded", "estimate"),
        ("st-pending", "approve"),
        ("st-not-started", "send"),
    ]
    assert "partly failed · 5/5 tasks done, 1 failed" in svg
    assert WAITING_NOTE.replace("'", "&#39;") in svg


def test_the_approvals_branches_are_both_drawn() -> None:
    svg = draw_run_graph(_winback("rejected"))

    assert "if approved" in svg and "if stopped" in svg
    assert svg.count('stroke-dasharray="5 4"') == 1  # the stopped branch skips "send"
    assert svg.count("<line") == 6  # start->select->draft->estimate->approve->send->end


def test_step_titles_are_escaped() -> None:
    graph = RunGraph(
        steps=(StepView("a", "<b>x</b>", "tasks", "running", 0, 2, 0),),
        edges=workflow_outline("weekly_gtm").edges,
        mermaid="",
    )

    assert "<b>x</b>" not in draw_run_graph(graph)
