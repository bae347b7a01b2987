"""A run's earlier steps held in memory, for testing workflow planners (pure functions)."""

from __future__ import annotations

from shared.core.documents import ApprovalDoc, TaskDoc


class History:
    """A run's earlier steps, given in memory (implements shared.workflows.spec.RunHistory)."""

    def __init__(self, tasks: list[TaskDoc], approvals: dict[str, ApprovalDoc] | None = None):
        self._tasks = tasks
        self._approvals = approvals or {}

    def tasks(self, step: str) -> list[TaskDoc]:
        """The tasks of one step."""
        return [t for t in self._tasks if t.step == step]

    def approval(self, step: str) -> ApprovalDoc | None:
        """The decision of one approval step, if given."""
        return self._approvals.get(step)
