"""Workflow declarations: which agents a run of each workflow starts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.errors import UnknownWorkflowError
from shared.topology import AGENTS


class Workflow(BaseModel):
    """A named workflow and the agent tasks that one run fans out in parallel."""

    model_config = ConfigDict(frozen=True)
    name: str
    title: str
    agents: tuple[str, ...]
    description: str = ""
    # A run still unfinished this long after it was created is failed by the sweeper.
    timeout_s: int = 1800


WORKFLOWS: dict[str, Workflow] = {
    wf.name: wf
    for wf in (
        Workflow(
            name="weekly_gtm",
            title="Weekly go-to-market report",
            agents=AGENTS,
            description="Marketing, finance, insights and support analyse the week in parallel.",
        ),
    )
}


def get_workflow(name: str) -> Workflow:
    """The declared workflow called `name`; UnknownWorkflowError lists the known ones."""
    try:
        return WORKFLOWS[name]
    except KeyError:
        known = ", ".join(sorted(WORKFLOWS))
        raise UnknownWorkflowError(f"unknown workflow {name!r}; known workflows: {known}") from None
