"""Every declared workflow, by name."""

from __future__ import annotations

from shared.core.errors import UnknownWorkflowError
from shared.workflows.ad_performance import AD_PERFORMANCE
from shared.workflows.growth import GROWTH
from shared.workflows.spec import Workflow
from shared.workflows.weekly_gtm import WEEKLY_GTM
from shared.workflows.winback import WINBACK

WORKFLOWS: dict[str, Workflow] = {
    wf.name: wf for wf in (WEEKLY_GTM, WINBACK, GROWTH, AD_PERFORMANCE)
}


def get_workflow(name: str) -> Workflow:
    """The declared workflow called `name`; UnknownWorkflowError lists the known ones."""
    try:
        return WORKFLOWS[name]
    except KeyError:
        known = ", ".join(sorted(WORKFLOWS))
        raise UnknownWorkflowError(f"unknown workflow {name!r}; known workflows: {known}") from None
