"""What a workflow run takes as parameters: the pieces every workflow's params model is made of,
and the one check that POST /runs and the supervisor both apply.

A run's params reach its tasks, where they override the agents' policy values for that run
(shared/policies/<agent>.yaml: "a run's params override these values for that run"). So a
workflow's params model (declared in its module, e.g. `WeeklyGtmParams`) lists what its
steps read: the policy values of the agents it uses, and the few parameters of its own (a
customer, a day, how long an approval waits). Anything else is refused: a misspelt name
would otherwise be accepted and silently do nothing.

A field's default is the bundled policy's value, for the docs and the JSON schema. A field
the caller leaves out stays out of the run's params, so the agent's policy as it stands
(with any override saved on the status page) decides, exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from shared.ads.models import PLATFORMS, Platform
from shared.core.agent_settings import bundled_policy
from shared.core.envelope import describe_validation_error
from shared.core.errors import InvalidParamsError
from shared.tracking.segments import SEGMENT_NAME

T = TypeVar("T")

APPROVAL_EXPIRES_AFTER_S = 72 * 3600
"""How long an approval step waits for a person before the run is cancelled."""


def policy_default(agent: str, key: str) -> Any:
    """The bundled policy's value of `key` for `agent`: the default a params field shows."""
    return bundled_policy(agent).values[key]


def _distinct(values: list[T]) -> list[T]:
    if len(set(values)) != len(values):
        raise ValueError("must not name the same value twice")
    return values


Platforms = Annotated[
    list[Platform],
    Field(min_length=1, max_length=len(PLATFORMS), description="Ad platforms, each once"),
    AfterValidator(_distinct),
]
SegmentNames = Annotated[
    list[Annotated[str, Field(pattern=SEGMENT_NAME)]],
    Field(min_length=1, max_length=20, description="Segment names, each once"),
    AfterValidator(_distinct),
]


class RunParams(BaseModel):
    """What every workflow takes: nothing but a person's note. The base of every params model."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Why the run was started, in a person's words; kept with the run, "
        "read by no agent",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # Lax validation reads "14" as 14 (a form posts text), and would read true as 1.
        if isinstance(value, bool):
            raise ValueError("true and false are not values of this field")
        return value


class ApprovalParams(RunParams):
    """What a workflow with an approval step takes besides."""

    approval_expires_s: int = Field(
        default=APPROVAL_EXPIRES_AFTER_S,
        ge=1,
        le=30 * 24 * 3600,
        description="Seconds each approval step waits for a person before the run is cancelled",
    )


class MarketingPolicyParams(RunParams):
    """The marketing agent's policy values a run may set (shared/policies/marketing.yaml)."""

    significance_alpha: float = Field(
        default=policy_default("marketing", "significance_alpha"),
        gt=0,
        lt=1,
        description="Marketing: level at which conversion-rate differences are tested "
        "(Holm-adjusted)",
    )
    shift_fraction: float = Field(
        default=policy_default("marketing", "shift_fraction"),
        gt=0,
        le=1,
        description="Marketing: share of the worst channel's spend proposed to move",
    )
    shift_max_increase: float = Field(
        default=policy_default("marketing", "shift_max_increase"),
        gt=0,
        le=10,
        description="Marketing: most the best channel's spend may grow, as a share of it",
    )


def check_params(
    model: type[RunParams], params: Mapping[str, Any], *, workflow: str
) -> dict[str, Any]:
    """The params `model` accepts, as JSON values, only the fields given; else why not.

    InvalidParamsError names each refused field as `params.<field>` with pydantic's reason,
    and for an unknown field lists the fields the workflow takes.
    """
    try:
        checked = model.model_validate(dict(params))
    except ValidationError as exc:
        reason = describe_validation_error(exc, at="params.")
        if any(error["type"] == "extra_forbidden" for error in exc.errors()):
            reason += f" ({workflow} takes: {', '.join(accepted(model))})"
        raise InvalidParamsError(reason) from exc
    return checked.model_dump(mode="json", exclude_unset=True)


def accepted(model: type[RunParams]) -> Sequence[str]:
    """The names of the params a model takes, in declaration order."""
    return tuple(model.model_fields)
