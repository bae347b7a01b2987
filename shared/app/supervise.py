"""Use case: the supervisor's work, with its one rule that every way a run ends (the last
result, a person's command, a dead letter, the sweep) leads to the finished run's effects.

The effects themselves (announce, export, artifacts; each once) are `run_effects`; what
performs them is given as `when_finished`, so this module stays free of outside systems.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared.app.dead_letters import record_dead_letter
from shared.app.orchestrate import record_task_result, start_run
from shared.app.run_commands import carry_out
from shared.app.sweep import expire_approvals, resend_stalled_work, sweep_overdue_runs
from shared.core.envelope import Delivery, message_type_of, parse_message
from shared.core.errors import InvalidMessageError
from shared.core.messages import RunCommand, RunRequest, TaskResult
from shared.core.ports import Bus, Clock, Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Supervisor:
    """Plans runs, gathers results and finishes runs over one store and one bus."""

    store: Store
    bus: Bus
    clock: Clock
    when_finished: Callable[[str], object]
    """Performs a finished run's effects; called on every delivery that finds it over."""
    stall_s: int = 120
    """A task unanswered this long is sent again by the sweep (see `resend_stalled_work`)."""

    def take_run_message(self, delivery: Delivery) -> str:
        """A run request starts a run; a person's command is carried out. Returns the run."""
        if message_type_of(delivery) is RunCommand:
            command = parse_message(delivery, RunCommand)
            done = carry_out(
                command, delivery.message_id, store=self.store, bus=self.bus, clock=self.clock
            )
            logger.info("run %s: %s by %s: %s", command.run_id, command.command, command.by, done)
            run_id = command.run_id
        else:
            request = parse_message(delivery, RunRequest)
            run_id = start_run(
                request, delivery.message_id, store=self.store, bus=self.bus, clock=self.clock
            )
        self._finish_if_over(run_id)
        return run_id

    def take_result(self, delivery: Delivery) -> None:
        """Record one task's result; the last of a step moves the run on or finishes it."""
        if message_type_of(delivery) is not TaskResult:
            raise InvalidMessageError(
                f"unexpected message kind {delivery.attributes.get('kind')!r}"
            )
        result = parse_message(delivery, TaskResult)
        status = record_task_result(
            result, delivery.message_id, store=self.store, bus=self.bus, clock=self.clock
        )
        if status is not None and status.terminal:
            self.when_finished(result.run_id)

    def take_dead_letter(self, delivery: Delivery) -> str:
        """Put what died on its run's record; a failed task may finish the run."""
        outcome = record_dead_letter(delivery, store=self.store, bus=self.bus, clock=self.clock)
        run_id = delivery.attributes.get("run_id")
        if run_id and outcome in ("task failed", "noted"):
            self.when_finished(run_id)
        return outcome

    def sweep(self) -> tuple[list[str], list[str]]:
        """Fail runs past their deadline, expire approvals, send again what a lost message
        left waiting; returns the runs swept and the runs expired."""
        swept = sweep_overdue_runs(self.store, bus=self.bus, clock=self.clock)
        expired = expire_approvals(self.store, bus=self.bus, clock=self.clock)
        resent = resend_stalled_work(
            self.store, bus=self.bus, clock=self.clock, stall_s=self.stall_s
        )
        if resent:
            logger.info("sweep sent again or moved on: %s", resent)
        for run_id in (*swept, *expired, *resent):
            self._finish_if_over(run_id)
        return swept, expired

    def _finish_if_over(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run is not None and run.status.terminal:
            self.when_finished(run_id)
