"""Win-back campaign: churned customers, one personalised email each, sent only if approved.

    select (insights)  ->  draft (marketing, one task per customer)  ->  estimate (finance)
        ->  approve (a person, or it expires)  ->  send (marketing, one task per customer)

Insights picks repeat buyers whose BG/NBD P(alive) fell below the policy's ceiling and whose
value clears its floor (or the one customer a Stripe cancellation names). A draft that fails
drops its customer; the estimate and the approval cover the drafts that exist. The approver
may change the subject line and leave customers out. Each email is sent once per customer and
run (an effect record keyed by both), and logged to the sheet.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from shared.core.documents import Artifact, RunDoc, TaskDoc
from shared.core.models import TaskStatus
from shared.workflows.params import ApprovalParams, policy_default
from shared.workflows.spec import RunHistory, RunOutcome, Step, TaskSpec, Workflow

PREVIEW_DRAFTS = 20
POLICY = "winback_email"


class WinbackParams(ApprovalParams):
    """What a win-back run may set: the one customer it is for, or the selection rules, and
    the assumptions of the ROI estimate (shared/policies/winback_email.yaml)."""

    customer_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The one customer to win back (a cancellation or a segment entry names "
        "them); unset: chosen by the rules below",
    )
    stripe_event: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The Stripe event that named the customer, kept with the run",
    )
    max_p_alive: float = Field(
        default=policy_default(POLICY, "max_p_alive"),
        ge=0,
        le=1,
        description="A BG/NBD P(alive) below this counts as churned",
    )
    min_p_alive: float = Field(
        default=policy_default(POLICY, "min_p_alive"),
        ge=0,
        le=1,
        description="A P(alive) at or above this is still worth an email",
    )
    min_order_value_cents: int = Field(
        default=policy_default(POLICY, "min_order_value_cents"),
        ge=0,
        description="Average order value floor, in cents",
    )
    max_customers: int = Field(
        default=policy_default(POLICY, "max_customers"),
        ge=1,
        le=10_000,
        description="Largest campaign the run sends (one draft and one send task each)",
    )
    bgnbd_horizon_weeks: float = Field(
        default=policy_default(POLICY, "bgnbd_horizon_weeks"),
        gt=0,
        le=520,
        description="Weeks the BG/NBD forecast covers",
    )
    gross_margin: float = Field(
        default=policy_default(POLICY, "gross_margin"),
        ge=0,
        le=1,
        description="Value of a purchase = average order x this margin",
    )
    uplift: float = Field(
        default=policy_default(POLICY, "uplift"),
        ge=0,
        le=1,
        description="Extra purchase probability the offer gives an alive customer",
    )
    offer_cost_cents: int = Field(
        default=policy_default(POLICY, "offer_cost_cents"),
        ge=0,
        description="Cost of one redemption of the offer, in cents",
    )
    send_cost_cents: int = Field(
        default=policy_default(POLICY, "send_cost_cents"),
        ge=0,
        description="Cost of one email, in cents",
    )
    baseline_purchase_rate: float = Field(
        default=policy_default(POLICY, "baseline_purchase_rate"),
        ge=0,
        le=1,
        description="Probability that a customer buys anyway",
    )

    @model_validator(mode="after")
    def _floor_below_ceiling(self) -> WinbackParams:
        both = {"min_p_alive", "max_p_alive"} <= self.model_fields_set
        if both and self.min_p_alive > self.max_p_alive:
            raise ValueError("min_p_alive must not exceed max_p_alive")
        return self


def plan_selection(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One insights task that chooses the customers."""
    return [TaskSpec(task_id="select", agent="insights", input=dict(run.params))]


def selected_customers(history: RunHistory) -> list[dict[str, Any]]:
    """The customers the selection step chose (empty if it failed)."""
    tasks = [t for t in history.tasks("select") if t.status is TaskStatus.SUCCEEDED]
    return list((tasks[0].output or {}).get("customers", [])) if tasks else []


def plan_drafts(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One marketing task per chosen customer."""
    return [
        TaskSpec(task_id=f"draft-{c['customer_id']}", agent="marketing", input={"customer": c})
        for c in selected_customers(history)
    ]


def drafts(history: RunHistory) -> list[dict[str, Any]]:
    """Every email drafted, by customer id."""
    return [
        dict(t.output["email"])
        for t in history.tasks("draft")
        if t.status is TaskStatus.SUCCEEDED and t.output and "email" in t.output
    ]


def plan_estimate(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One finance task that prices the campaign for the customers with a draft."""
    if not drafts(history):
        return []
    drafted = {d["customer_id"] for d in drafts(history)}
    targets = [
        {"customer_id": c["customer_id"], "p_alive": c["p_alive"]}
        for c in selected_customers(history)
        if c["customer_id"] in drafted
    ]
    return [TaskSpec(task_id="estimate", agent="finance", input={**run.params, "targets": targets})]


def estimate(history: RunHistory) -> dict[str, Any] | None:
    """The finance step's ROI estimate, if it ran."""
    tasks = [t for t in history.tasks("estimate") if t.status is TaskStatus.SUCCEEDED]
    return dict((tasks[0].output or {}).get("estimate", {})) if tasks else None


def propose_campaign(run: RunDoc, history: RunHistory) -> dict[str, Any]:
    """What approving would do: who gets which email, and what finance expects it to return."""
    emails = drafts(history)
    return {
        "action": f"Send {len(emails)} win-back emails",
        "customers": len(emails),
        "drafts": emails[:PREVIEW_DRAFTS],
        "more_drafts": max(0, len(emails) - PREVIEW_DRAFTS),
        "estimate": estimate(history),
        "editable": ["subject", "exclude"],
    }


def plan_sends(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One send per drafted customer the approver kept, with the approver's subject if set."""
    decision = history.approval("approve")
    edits = decision.edits if decision else {}
    excluded = set(edits.get("exclude", []))
    subject = edits.get("subject")
    return [
        TaskSpec(
            task_id=f"send-{email['customer_id']}",
            agent="marketing",
            input={"email": {**email, "subject": subject or email["subject"]}},
        )
        for email in drafts(history)
        if email["customer_id"] not in excluded
    ]


def report_campaign(run: RunDoc, tasks: list[TaskDoc], now: datetime) -> RunOutcome:
    """How many were chosen, drafted and sent; the campaign as CSV; one sheet row per email."""
    by_step: dict[str, list[TaskDoc]] = {}
    for task in tasks:
        by_step.setdefault(task.step, []).append(task)
    outcomes = [
        t.output["sent"] or {}
        for t in by_step.get("send", [])
        if t.status is TaskStatus.SUCCEEDED and t.output and "sent" in t.output
    ]
    sent = [o for o in outcomes if "provider_message_id" in o]
    skipped = len(outcomes) - len(sent)
    drafted = sum(1 for t in by_step.get("draft", []) if t.status is TaskStatus.SUCCEEDED)
    chosen = len(by_step.get("draft", []))
    summary = f"Win-back: {chosen} customers chosen, {drafted} emails drafted, {len(sent)} sent"
    if skipped:
        summary += f", {skipped} not sent (unsubscribed after the draft)"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The codes are for the shop's checkout: each works once, for its customer, until the date.
    header = ["customer_id", "to", "subject", "provider", "provider_message_id", "sent_at"]
    header += ["discount_code", "code_valid_until"]
    writer.writerow(header)
    rows = [[s.get(key, "") for key in header] for s in sent]
    writer.writerows(rows)
    artifact = Artifact(
        name="campaign.csv", content_type="text/csv", content=buffer.getvalue(), created_at=now
    )
    return RunOutcome(
        summary=summary, artifacts=(artifact,), rows=[[run.run_id, *row] for row in rows]
    )


WINBACK = Workflow(
    name="winback",
    title="Win-back campaign",
    description=(
        "Insights chooses churned customers, marketing drafts one email each, finance prices "
        "the campaign, a person approves, marketing sends each email once."
    ),
    steps=(
        Step(
            name="select",
            title="Choose churned customers",
            agents=("insights",),
            plan=plan_selection,
        ),
        Step(
            name="draft",
            title="Draft one email per customer",
            agents=("marketing",),
            plan=plan_drafts,
            allow_failures=True,
        ),
        Step(
            name="estimate",
            title="Estimate cost and ROI",
            agents=("finance",),
            plan=plan_estimate,
        ),
        Step(
            name="approve",
            title="A person approves the campaign",
            kind="approval",
            propose=propose_campaign,
        ),
        Step(
            name="send",
            title="Send each email once",
            agents=("marketing",),
            plan=plan_sends,
        ),
    ),
    report=report_campaign,
    params_model=WinbackParams,
    timeout_s=1800,
)
