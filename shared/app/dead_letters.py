"""Use case: everything that dies lands on the dead-letter topic; put it on its run's record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared.app.orchestrate import fail_dead_lettered_task, finish_run_if_complete
from shared.app.timeline import run_event
from shared.core.envelope import Delivery, message_type_of, parse_message
from shared.core.messages import AgentTask, TaskResult
from shared.core.ports import Bus, Store

logger = logging.getLogger(__name__)


def record_dead_letter(
    delivery: Delivery, *, store: Store, bus: Bus, clock: Callable[[], datetime]
) -> str:
    """Record a dead-lettered message where a person will see it; returns what was done.

    - rejected by a consumer (bad schema, unknown workflow): already recorded, nothing to do;
    - an agent task whose deliveries ran out: fail the task with the reason, maybe finish;
    - a task result the supervisor could not process: note it, and finish the run if complete;
    - anything else: note it on the run named by its attributes, if any.
    """
    if delivery.attributes.get("rejected_by"):
        return "already recorded"
    kind = message_type_of(delivery)
    attempts = delivery.dead_letter_attempts
    if kind is AgentTask:
        task = parse_message(delivery, AgentTask)
        fail_dead_lettered_task(
            task, attempts, delivery.message_id, store=store, bus=bus, clock=clock
        )
        return "task failed"
    run_id = delivery.attributes.get("run_id")
    if not run_id or store.get_run(run_id) is None:
        logger.error(
            "dead letter %s names no known run; kept on the dead-letter topic", delivery.message_id
        )
        return "no run"
    source = delivery.dead_lettered_from or "a consumer"
    store.append_event(
        run_event(
            run_id,
            "message.dead_lettered",
            f"{source} gave up on a {delivery.attributes.get('kind', 'message')} "
            f"after {attempts or 'several'} delivery attempts",
            clock(),
            task_id=delivery.attributes.get("task_id"),
            discriminator=delivery.message_id,
        )
    )
    if kind is TaskResult:
        result = parse_message(delivery, TaskResult)
        finish_run_if_complete(
            result.run_id, delivery.message_id, store=store, bus=bus, clock=clock
        )
    return "noted"
