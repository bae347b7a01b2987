"""Use case: a user entering a segment whose definition names `on_enter` starts that workflow.

The run id derives from the change (segment, user, entry number), so every copy of one
entry (a redelivery, a re-announcement after a crash) asks for the same run and the
supervisor starts it once; the user's next entry, after leaving, is a new run.
"""

from __future__ import annotations

from shared.core.messages import RunRequest, SegmentChange
from shared.core.models import stable_id
from shared.core.ports import Bus
from shared.core.topology import RUN_REQUESTS_TOPIC
from shared.tracking.segments import SegmentCatalog


def segment_run_id(change: SegmentChange) -> str:
    """The run id of the workflow one entry starts."""
    return f"segment-{stable_id('segment-entry', change.change_id, length=16)}"


def start_workflow_on_entry(change: SegmentChange, catalog: SegmentCatalog, *, bus: Bus) -> str:
    """Request the segment's `on_enter` run for the user who entered; returns what happened."""
    if change.change != "entered":
        return f"{change.user_id} left {change.segment}: nothing to start"
    definition = catalog.get(change.segment)
    if definition is None:
        return f"segment {change.segment!r} is no longer defined: nothing to start"
    if definition.on_enter is None:
        return f"{change.user_id} entered {change.segment}, which starts no workflow"
    on_enter = definition.on_enter
    run_id = segment_run_id(change)
    bus.publish(
        RUN_REQUESTS_TOPIC,
        RunRequest(
            workflow=on_enter.workflow,
            trigger="segment",
            params={**on_enter.params, on_enter.user_param: change.user_id},
            run_id=run_id,
            requested_by=f"segment:{change.segment}#{change.entry}",
        ),
    )
    return f"{on_enter.workflow} run {run_id} requested for {change.user_id} ({change.segment})"
