"""The one mechanism every side effect on an outside system goes through, keyed by run and step.

    runs/{run_id}/effects/{step}    EffectRecord: intent (what is about to be done), attempts,
                                    done or not, and what the outside system answered

Every effect is: record the intent once → if a record is already done, do nothing → if the
intent is a leftover of an earlier attempt (a crash between the call and the record, or a
redelivery), ask the outside system whether it already happened, where it can tell → call →
mark done with the answer. The effects and their keys:

| effect | run | step |
| --- | --- | --- |
| win-back email | the workflow run | email-{customer} |
| run report, Slack notice, sheet rows | the workflow run | artifacts, announce, export |
| support reply | support-{platform}:{message} | reply |
| escalation: ticket, helpdesk ticket, notice | support-{platform}:{message} | ticket, ... |
| a person's resolving answer | support-{platform}:{message} | resolve |

(the escalation's steps are ticket, helpdesk and notify)

A support message is its own small run: the webhook delivery that brought it names it once
and for all (`support_run_id`).

What "once" means depends on the outside system (written down where each adapter lives):
exactly once where the record and the effect are one Firestore write or the system can be
asked (`find`); at-least-once in the crash window where it cannot. The record never claims
more: an effect found done after a crash has `found` set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.core.documents import EffectRecord

Result = dict[str, Any] | None


class EffectLedger(Protocol):
    """Where effect records live (Firestore: runs/{run}/effects/{step})."""

    def begin_effect(
        self, run_id: str, step: str, now: datetime, intent: dict[str, Any] | None = None
    ) -> EffectRecord:
        """Record the intent once; an existing unfinished record counts one more attempt."""
        ...

    def complete_effect(
        self, run_id: str, step: str, now: datetime, result: dict[str, Any] | None = None
    ) -> None:
        """Mark the effect done, with what the outside system answered."""
        ...


@dataclass(frozen=True)
class EffectOutcome:
    """What `perform_once` did: `performed` is False when an earlier attempt had done it;
    `found` is True when the outside system said it had already happened."""

    record: EffectRecord
    performed: bool
    found: bool = False

    @property
    def result(self) -> Result:
        """What the outside system answered (now or on the attempt that did it)."""
        return self.record.result


def support_run_id(message_id: str) -> str:
    """The run that one inbound support message's effects are keyed by."""
    return f"support-{message_id}"


def perform_once(
    ledger: EffectLedger,
    run_id: str,
    step: str,
    act: Callable[[EffectRecord], Result],
    *,
    clock: Callable[[], datetime],
    find: Callable[[EffectRecord], Result] | None = None,
    intent: dict[str, Any] | None = None,
    complete: Callable[[EffectRecord, Result], None] | None = None,
) -> EffectOutcome:
    """Do one side effect once: `act` gets the record (its `intent` is the first attempt's,
    so a retry repeats what was decided, not a new decision) and returns the answer.

    `find` is asked only on a later attempt, and its answer stands for the call. `complete`
    replaces the plain "done" mark when the mark must be written together with other state
    (one Firestore batch)."""
    record = ledger.begin_effect(run_id, step, clock(), intent)
    if record.status == "done":
        return EffectOutcome(record, performed=False)
    found = find(record) if find is not None and record.attempts > 1 else None
    result = found if found is not None else act(record)
    if complete is not None:
        complete(record, result)
    else:
        ledger.complete_effect(run_id, step, clock(), result=result)
    done = record.model_copy(update={"status": "done", "result": result})
    return EffectOutcome(done, performed=found is None, found=found is not None)
