"""Declarative segments: rules over a user's traits and behaviour, read from a data file.

The bundled definitions are shared/policies/segments.yaml. A rule is one of

    {event: NAME, at_least: N, at_most: M, within_days: D}   how often the user did NAME
    {trait: NAME, equals | not_equals | in | not_in | exists | at_least | at_most: ...}
    {all: [rule, ...]}   {any: [rule, ...]}   {not: rule}

An event condition without `within_days` counts every event the profile ever applied (its
`counters`); with it, the events whose timestamp falls on one of the last D UTC calendar days,
today included (the profile's per-day buckets, `daily`). So "twice in 7 days" means twice
from 00:00 UTC six days ago until now: day granularity, chosen so that one profile read
evaluates every rule with no query and no index. A missing trait satisfies only `not_equals`,
`not_in` and `exists: false`.

Everything here is pure: `member_segments` takes a profile's facts and the day, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

# Per-day buckets older than this are pruned from profiles; no window may be longer.
MAX_WINDOW_DAYS = 90
SEGMENT_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Scalar = str | int | float | bool


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class EventCondition(_Rule):
    """How many times the user did one event, ever or within the last `within_days` days."""

    event: str = Field(min_length=1)
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    within_days: int | None = Field(default=None, ge=1, le=MAX_WINDOW_DAYS)

    @model_validator(mode="after")
    def _bounded(self) -> EventCondition:
        if self.at_least is None and self.at_most is None:
            raise ValueError("an event condition needs at_least or at_most")
        return self


class TraitCondition(_Rule):
    """One test of one trait; exactly one operator."""

    trait: str = Field(min_length=1)
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    exists: bool | None = None
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> TraitCondition:
        operators = [n for n in _TRAIT_OPERATORS if getattr(self, n) is not None]
        if len(operators) != 1:
            raise ValueError(f"a trait condition needs exactly one operator, got {operators}")
        return self


_TRAIT_OPERATORS = ("equals", "not_equals", "in_", "not_in", "exists", "at_least", "at_most")


class AllOf(_Rule):
    """Every rule holds."""

    all: list[Rule] = Field(min_length=1)


class AnyOf(_Rule):
    """At least one rule holds."""

    any: list[Rule] = Field(min_length=1)


class NotRule(_Rule):
    """The rule does not hold."""

    not_: Rule = Field(alias="not")


def _rule_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {
            EventCondition: "event",
            TraitCondition: "trait",
            AllOf: "all",
            AnyOf: "any",
            NotRule: "not",
        }.get(type(value))
    if isinstance(value, Mapping):
        kinds = [k for k in ("event", "trait", "all", "any", "not") if k in value]
        return kinds[0] if len(kinds) == 1 else None
    return None


Rule = Annotated[
    Annotated[EventCondition, Tag("event")]
    | Annotated[TraitCondition, Tag("trait")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotRule, Tag("not")],
    Discriminator(
        _rule_kind,
        custom_error_type="segment_rule",
        custom_error_message="a rule has exactly one of: event, trait, all, any, not",
    ),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotRule.model_rebuild()


class WorkflowOnEnter(_Rule):
    """The workflow a user's entry into the segment starts, with the user as a parameter."""

    workflow: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    # The run parameter that carries the user id (winback reads `customer_id`).
    user_param: str = Field(default="user_id", min_length=1)


class SegmentDefinition(_Rule):
    """One named segment: its rule, and what entering it starts."""

    name: str = Field(pattern=SEGMENT_NAME)
    title: str = Field(min_length=1)
    description: str = ""
    # What the people in it want, in words a customer reads ("choosing a plan"): ads are
    # written from it, never from the rule or the title.
    ad_angle: str = Field(default="", max_length=40)
    rule: Rule
    on_enter: WorkflowOnEnter | None = None


class SegmentCatalog(_Rule):
    """Every defined segment (the parsed segments.yaml)."""

    version: int = Field(ge=1)
    segments: tuple[SegmentDefinition, ...] = ()

    @field_validator("segments")
    @classmethod
    def _unique(cls, segments: tuple[SegmentDefinition, ...]) -> tuple[SegmentDefinition, ...]:
        names = [s.name for s in segments]
        if len(set(names)) != len(names):
            raise ValueError(f"segment names must be unique: {sorted(names)}")
        return segments

    @property
    def names(self) -> tuple[str, ...]:
        """The segments' names, in file order."""
        return tuple(s.name for s in self.segments)

    def get(self, name: str) -> SegmentDefinition | None:
        """The segment called `name`, if defined."""
        return next((s for s in self.segments if s.name == name), None)


class ProfileFacts(BaseModel):
    """What rules read from one user's profile."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    traits: dict[str, Any] = Field(default_factory=dict)
    counters: dict[str, int] = Field(default_factory=dict)
    # UTC day (YYYY-MM-DD) -> event name -> events that day
    daily: dict[str, dict[str, int]] = Field(default_factory=dict)

    def count(self, event: str, within_days: int | None, today: date) -> int:
        """Times the user did `event`: ever, or on the last `within_days` days up to today."""
        if within_days is None:
            return int(self.counters.get(event, 0))
        first = (today - timedelta(days=within_days - 1)).isoformat()
        # ISO dates compare as strings; a bucket after today (a client's clock ahead) counts.
        return sum(int(names.get(event, 0)) for day, names in self.daily.items() if day >= first)


def holds(rule: Rule, facts: ProfileFacts, today: date) -> bool:
    """Whether the rule holds for the profile on `today`."""
    if isinstance(rule, EventCondition):
        count = facts.count(rule.event, rule.within_days, today)
        low_ok = rule.at_least is None or count >= rule.at_least
        return low_ok and (rule.at_most is None or count <= rule.at_most)
    if isinstance(rule, TraitCondition):
        return _trait_holds(rule, facts.traits)
    if isinstance(rule, AllOf):
        return all(holds(r, facts, today) for r in rule.all)
    if isinstance(rule, AnyOf):
        return any(holds(r, facts, today) for r in rule.any)
    return not holds(rule.not_, facts, today)


def _trait_holds(rule: TraitCondition, traits: Mapping[str, Any]) -> bool:
    present = rule.trait in traits and traits[rule.trait] is not None
    value = traits.get(rule.trait)
    if rule.exists is not None:
        return present is rule.exists
    if rule.not_equals is not None:
        return not present or value != rule.not_equals
    if rule.not_in is not None:
        return not present or value not in rule.not_in
    if not present:
        return False
    if rule.equals is not None:
        return bool(value == rule.equals)
    if rule.in_ is not None:
        return value in rule.in_
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    if rule.at_least is not None:
        return value >= rule.at_least
    return rule.at_most is not None and value <= rule.at_most


def member_segments(catalog: SegmentCatalog, facts: ProfileFacts, today: date) -> frozenset[str]:
    """The names of the segments whose rule the profile satisfies on `today`."""
    return frozenset(s.name for s in catalog.segments if holds(s.rule, facts, today))


def stale_days(facts: ProfileFacts, today: date) -> list[str]:
    """The profile's per-day buckets that no window can reach any more."""
    oldest = (today - timedelta(days=MAX_WINDOW_DAYS - 1)).isoformat()
    return sorted(day for day in facts.daily if day < oldest)


def parse_segments(text: str) -> SegmentCatalog:
    """A catalog from YAML text (ValueError/ValidationError when it is not one)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("a segments file is a mapping with `version` and `segments`")
    return SegmentCatalog.model_validate(data)


@cache
def bundled_segments() -> SegmentCatalog:
    """The segments shipped in shared/policies/segments.yaml."""
    text = resources.files("shared").joinpath("policies", "segments.yaml").read_text("utf-8")
    return parse_segments(text)
