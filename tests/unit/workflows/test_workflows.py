"""Workflow declarations: their shape, the win-back planners, and the drawn graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.agents.registry import ANALYSIS_GRAPHS, STEP_HANDLERS
from shared.app.run_steps import run_graph
from shared.core.documents import ApprovalDoc, RunDoc, TaskDoc
from shared.core.models import ApprovalStatus, RunStatus, TaskStatus
from shared.workflows.graph import workflow_outline
from shared.workflows.registry import WORKFLOWS, get_workflow
from shared.workflows.spec import Step, Workflow
from shared.workflows.winback import (
    WINBACK,
    plan_drafts,
    plan_estimate,
    plan_sends,
    propose_campaign,
    report_campaign,
)
from tests.helpers.fakes.run_history import History

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def run(**update: object) -> RunDoc:
    base = RunDoc(run_id="wb-1", workflow="winback", trigger="api", task_count=0, created_at=NOW)
    return base.model_copy(update=update)


def customer(n: int) -> dict[str, object]:
    return {"customer_id": f"cus_{n}", "name": f"Ana {n}", "email": f"a{n}@x.test", "p_alive": 0.2}


def task(step: str, task_id: str, status: TaskStatus, output: dict[str, object]) -> TaskDoc:
    return TaskDoc(
        run_id="wb-1",
        task_id=task_id,
        agent="marketing",
        step=step,
        status=status,
        output=output,
        created_at=NOW,
    )


def draft(n: int, status: TaskStatus = TaskStatus.SUCCEEDED) -> TaskDoc:
    email = {"customer_id": f"cus_{n}", "to": f"a{n}@x.test", "name": f"Ana {n}"}
    email |= {"subject": f"Hi {n}", "body": "Come back"}
    return task(
        "draft", f"draft-cus_{n}", status, {"email": email} if status == "succeeded" else {}
    )


def selection(*numbers: int) -> TaskDoc:
    return task(
        "select", "select", TaskStatus.SUCCEEDED, {"customers": [customer(n) for n in numbers]}
    )


def test_every_workflow_declares_distinct_steps_starting_with_tasks() -> None:
    with pytest.raises(ValueError, match="distinct"):
        Workflow("x", "X", "", steps=(), report=WINBACK.report)
    with pytest.raises(ValueError, match="task step"):
        Workflow("x", "X", "", steps=(WINBACK.step("approve"),), report=WINBACK.report)
    with pytest.raises(ValueError, match="planner"):
        Step(name="s", title="S")
    assert sorted(WORKFLOWS) == ["ad_performance", "growth", "weekly_gtm", "winback"]
    assert get_workflow("winback").after("approve") == WINBACK.step("send")
    assert get_workflow("winback").after("send") is None


def test_every_task_step_has_its_work_a_handler_or_its_agents_analysis_graph() -> None:
    task_steps = {
        (w.name, s.name): s for w in WORKFLOWS.values() for s in w.steps if s.kind == "tasks"
    }
    # Every handler is for a task step that exists (a renamed step would silently lose it).
    assert set(STEP_HANDLERS) <= set(task_steps)
    without_handler = {key: step for key, step in task_steps.items() if key not in STEP_HANDLERS}
    assert sorted(without_handler) == [("growth", "brief"), ("weekly_gtm", "analyse")]
    for step in without_handler.values():
        assert set(step.agents) <= set(ANALYSIS_GRAPHS)


def test_one_draft_task_per_chosen_customer() -> None:
    specs = plan_drafts(run(), History([selection(1, 2, 3)]))

    assert [(s.task_id, s.agent) for s in specs] == [
        ("draft-cus_1", "marketing"),
        ("draft-cus_2", "marketing"),
        ("draft-cus_3", "marketing"),
    ]
    assert specs[1].input == {"customer": customer(2)}


def test_the_estimate_covers_only_customers_whose_draft_exists() -> None:
    history = History([selection(1, 2, 3), draft(1), draft(2, TaskStatus.FAILED), draft(3)])

    (spec,) = plan_estimate(run(params={"uplift": 0.1}), history)

    assert spec.agent == "finance" and spec.input["uplift"] == 0.1
    assert [t["customer_id"] for t in spec.input["targets"]] == ["cus_1", "cus_3"]
    assert plan_estimate(run(), History([selection()])) == []


def test_the_proposal_shows_what_approving_would_send() -> None:
    estimate = task("estimate", "estimate", TaskStatus.SUCCEEDED, {"estimate": {"roi": 1.5}})
    history = History([selection(1, 2), draft(1), draft(2), estimate])

    proposal = propose_campaign(run(), history)

    assert proposal["action"] == "Send 2 win-back emails" and proposal["customers"] == 2
    assert [d["subject"] for d in proposal["drafts"]] == ["Hi 1", "Hi 2"]
    assert proposal["estimate"] == {"roi": 1.5}


def test_sends_apply_the_approvers_subject_and_leave_out_excluded_customers() -> None:
    decision = ApprovalDoc(
        run_id="wb-1",
        step="approve",
        workflow="winback",
        title="Approve",
        status=ApprovalStatus.APPROVED,
        requested_at=NOW,
        expires_at=NOW + timedelta(days=1),
        edits={"subject": "We miss you", "exclude": ["cus_2"]},
    )
    history = History([draft(1), draft(2), draft(3)], {"approve": decision})

    specs = plan_sends(run(), history)

    assert [s.task_id for s in specs] == ["send-cus_1", "send-cus_3"]
    assert {s.input["email"]["subject"] for s in specs} == {"We miss you"}


NOW_ISO = "2026-11-16T08:00:00"


def test_the_campaign_report_logs_one_row_per_email_sent() -> None:
    sent = {"customer_id": "cus_1", "to": "a1@x.test", "subject": "Hi", "provider": "smtp"}
    sent |= {"provider_message_id": "<k@controlroom>", "sent_at": NOW_ISO}
    sent |= {"discount_code": "BACK-AB2C-D3EF", "code_valid_until": "2026-12-16"}
    skipped = {"customer_id": "cus_3", "skipped": "unsubscribed"}
    tasks = [
        selection(1, 3),
        draft(1),
        draft(2, TaskStatus.FAILED),
        draft(3),
        task("send", "send-cus_1", TaskStatus.SUCCEEDED, {"sent": sent}),
        task("send", "send-cus_3", TaskStatus.SUCCEEDED, {"sent": skipped}),
    ]

    outcome = report_campaign(run(), tasks, NOW)

    assert outcome.summary == (
        "Win-back: 3 customers chosen, 2 emails drafted, 1 sent, "
        "1 not sent (unsubscribed after the draft)"
    )
    (row,) = outcome.rows
    assert row[:7] == ["wb-1", "cus_1", "a1@x.test", "Hi", "smtp", "<k@controlroom>", NOW_ISO]
    assert row[7:] == ["BACK-AB2C-D3EF", "2026-12-16"]
    (csv,) = outcome.artifacts
    assert csv.name == "campaign.csv" and csv.content.count("\n") == 2
    assert csv.content.splitlines()[0].endswith(",discount_code,code_valid_until")


def test_the_graph_is_drawn_from_langgraph_with_the_approval_branch() -> None:
    outline = workflow_outline("winback")

    assert outline.nodes == (
        "__start__",
        "select",
        "draft",
        "estimate",
        "approve",
        "send",
        "__end__",
    )
    branches = {(e.source, e.target, e.label) for e in outline.edges if e.label}
    assert branches == {("approve", "send", "approved"), ("approve", "__end__", "stopped")}
    assert "approve -. &nbsp;approved&nbsp; .-> send" in outline.mermaid


def test_each_step_of_a_waiting_run_shows_its_status() -> None:
    approval = ApprovalDoc(
        run_id="wb-1",
        step="approve",
        workflow="winback",
        title="Approve",
        requested_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    tasks = [selection(1, 2), draft(1), draft(2, TaskStatus.FAILED)]
    tasks.append(task("estimate", "estimate", TaskStatus.SUCCEEDED, {}))
    waiting = run(status=RunStatus.WAITING, step="approve")

    graph = run_graph(waiting, tasks, {"approve": approval})

    assert graph is not None
    shown = [(s.name, s.status, s.done, s.total, s.failed) for s in graph.steps]
    assert shown == [
        ("select", "succeeded", 1, 1, 0),
        ("draft", "partly failed", 2, 2, 1),
        ("estimate", "succeeded", 1, 1, 0),
        ("approve", "pending", 0, 0, 0),
        ("send", "not started", 0, 0, 0),
    ]
