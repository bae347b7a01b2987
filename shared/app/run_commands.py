"""Use cases of a person acting on a run: decide an approval, retry from the failed step, cancel.

The status page records the decision (or checks the request) and publishes a RunCommand; the
supervisor carries it out. Each command names the run's attempt the person saw, so a double
click or a redelivery of an old command changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.app.orchestrate import dispatch_pending, resume_after_decision
from shared.app.timeline import run_event
from shared.core.documents import ApprovalDoc
from shared.core.errors import ConflictError, NotFoundError
from shared.core.messages import RunCommand
from shared.core.models import ApprovalStatus, RunStatus
from shared.core.ports import Bus, Clock, Store
from shared.core.topology import RUN_REQUESTS_TOPIC
from shared.workflows.registry import get_workflow


class DecisionBody(BaseModel):
    """A person's decision on an approval (form fields or JSON)."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=2000)
    # Edits applied when approving, e.g. {"subject": "...", "exclude": ["cus_1"]}.
    edits: dict[str, Any] = Field(default_factory=dict)


def describe_edits(edits: dict[str, Any], currency: str = "") -> str:
    """The edits of an approval as a phrase for the timeline: "leaving out cus_1 and cus_2,
    with the subject “We miss you”, with the daily budget of growth-1-a at 25.00 EUR"."""
    parts = []
    left_out = [str(item) for item in edits.get("exclude") or []]
    if left_out:
        shown = ", ".join(left_out[:5]) + (
            f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
        )
        parts.append(f"leaving out {shown}")
    if edits.get("subject"):
        parts.append(f"with the subject “{edits['subject']}”")
    budgets = dict(edits.get("budgets") or {})
    for key, cents in sorted(budgets.items())[:5]:
        amount = f"{int(cents) / 100:.2f} {currency}".strip()
        parts.append(f"with the daily budget of {key} at {amount}")
    others = sorted(set(edits) - {"exclude", "subject", "budgets"})
    if others:
        parts.append("with changes to " + ", ".join(others))
    return "; ".join(parts)


def decide_approval(
    run_id: str,
    step: str,
    body: DecisionBody,
    *,
    by: str,
    store: Store,
    bus: Bus,
    clock: Clock,
) -> ApprovalDoc:
    """Record the decision once (a late or second decision is a conflict), then resume."""
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no run {run_id}")
    if run.status.terminal:
        raise ConflictError(f"the run is {run.status.value}; there is nothing left to decide")
    now = clock()
    status = ApprovalStatus.APPROVED if body.decision == "approve" else ApprovalStatus.REJECTED
    edits = body.edits if status is ApprovalStatus.APPROVED else {}
    decided, changed = store.decide_approval(run_id, step, status, by, now, body.comment, edits)
    if not changed and decided.status is status and decided.decided_by == by:
        # The same person's repeated request (its first resume may not have been published).
        _publish_resume(run_id, by, store=store, bus=bus)
        return decided
    if not changed:
        raise ConflictError(
            f"the approval is already {decided.status.value}"
            + (f" by {decided.decided_by}" if decided.decided_by else "")
        )
    currency = str(decided.proposal.get("currency") or "")
    edited = f", {describe_edits(edits, currency)}" if edits else ""
    comment = f": {body.comment}" if body.comment else ""
    store.append_event(
        run_event(
            run_id,
            f"approval.{status.value}",
            f"{decided.title} {status.value} by {by}{edited}{comment}",
            now,
            discriminator=step,
            data={"by": by, "comment": body.comment, "edits": edits},
        )
    )
    _publish_resume(run_id, by, store=store, bus=bus)
    return decided


def _publish_resume(run_id: str, by: str, *, store: Store, bus: Bus) -> None:
    run = store.get_run(run_id)
    attempt = run.attempt if run else 1
    bus.publish(
        RUN_REQUESTS_TOPIC, RunCommand(run_id=run_id, command="resume", by=by, attempt=attempt)
    )


def request_command(
    run_id: str,
    command: Literal["retry", "cancel"],
    *,
    by: str,
    reason: str,
    store: Store,
    bus: Bus,
) -> RunCommand:
    """Check that the command applies to the run as it is, then hand it to the supervisor."""
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no run {run_id}")
    if command == "retry" and run.status is not RunStatus.FAILED:
        raise ConflictError(f"only a failed run can be retried; this one is {run.status.value}")
    if command == "cancel" and run.status.terminal:
        raise ConflictError(f"the run is already {run.status.value}")
    message = RunCommand(run_id=run_id, command=command, by=by, reason=reason, attempt=run.attempt)
    bus.publish(RUN_REQUESTS_TOPIC, message)
    return message


def carry_out(command: RunCommand, owner: str, *, store: Store, bus: Bus, clock: Clock) -> str:
    """The supervisor's side of a command; returns what it did."""
    run = store.get_run(command.run_id)
    if run is None:
        raise NotFoundError(f"command {command.command} for unknown run {command.run_id}")
    if command.command == "resume":
        status = resume_after_decision(command.run_id, owner, store=store, bus=bus, clock=clock)
        return f"resumed: {status.value}" if status else "nothing to resume"
    if run.attempt != command.attempt:
        return f"stale: the run is at attempt {run.attempt}, the command was for {command.attempt}"
    if command.command == "cancel":
        return _cancel(command, store=store, clock=clock)
    return _retry(command, store=store, bus=bus, clock=clock)


def _cancel(command: RunCommand, *, store: Store, clock: Clock) -> str:
    now = clock()
    cancelled = store.transition_run(
        command.run_id,
        from_statuses=(RunStatus.RUNNING, RunStatus.WAITING),
        updates={"status": RunStatus.CANCELLED.value, "finished_at": now},
    )
    if cancelled is None:
        return "already over"
    why = f": {command.reason}" if command.reason else ""
    store.append_event(
        run_event(
            command.run_id,
            "run.cancelled",
            f"run cancelled by {command.by} at step {cancelled.step}{why}",
            now,
            discriminator=f"cancel-{command.attempt}",
            data={"by": command.by},
        )
    )
    return "cancelled"


def _retry(command: RunCommand, *, store: Store, bus: Bus, clock: Clock) -> str:
    run = store.get_run(command.run_id)
    if run is None or run.status is not RunStatus.FAILED or run.failed_step is None:
        return "not retryable"
    step = run.failed_step
    reset = store.reset_failed_tasks(run.run_id, step)
    now = clock()
    resumed = store.transition_run(
        run.run_id,
        from_statuses=(RunStatus.FAILED,),
        updates={
            "status": RunStatus.RUNNING.value,
            "attempt": run.attempt + 1,
            "step": step,
            "failed_step": None,
            "finished_at": None,
            "failure_reasons": [],
            "deadline_at": now + timedelta(seconds=get_workflow(run.workflow).timeout_s),
            "task_count": len(store.list_tasks(run.run_id, step=step)),
        },
    )
    if resumed is None:
        return "not retryable"
    why = f": {command.reason}" if command.reason else ""
    store.append_event(
        run_event(
            run.run_id,
            "run.retried",
            f"retry by {command.by} from step {step} ({len(reset)} failed tasks again){why}",
            now,
            discriminator=f"retry-{command.attempt}",
            data={"by": command.by, "step": step},
        )
    )
    dispatch_pending(resumed, store=store, bus=bus, clock=clock)
    return f"retrying {step}"
