"""Segment definitions: the file's grammar, and rules over traits and windowed event counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.core.messages import SegmentChange
from shared.tracking.membership import Membership
from shared.tracking.segments import (
    MAX_WINDOW_DAYS,
    ProfileFacts,
    SegmentCatalog,
    bundled_segments,
    holds,
    member_segments,
    parse_segments,
    stale_days,
)
from shared.workflows.registry import get_workflow

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
PRICING = """
version: 1
segments:
  - name: pricing-intent
    title: Viewed pricing twice in 7 days, not on a paid plan
    rule:
      all:
        - {event: Viewed Pricing, at_least: 2, within_days: 7}
        - {trait: plan, not_in: [pro, business]}
"""


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def _facts(daily: dict[str, dict[str, int]] | None = None, **traits: object) -> ProfileFacts:
    counters: dict[str, int] = {}
    for names in (daily or {}).values():
        for name, count in names.items():
            counters[name] = counters.get(name, 0) + count
    return ProfileFacts(user_id="u", traits=traits, counters=counters, daily=daily or {})


def test_the_shipped_segments_parse_and_start_only_declared_workflows() -> None:
    catalog = bundled_segments()

    assert "pricing-intent" in catalog.names
    starters = [s for s in catalog.segments if s.on_enter is not None]
    assert starters, "at least one segment starts a workflow"
    for segment in starters:
        assert segment.on_enter is not None
        assert get_workflow(segment.on_enter.workflow).name == segment.on_enter.workflow


@pytest.mark.parametrize(
    ("views", "plan", "member"),
    [
        ({0: 2}, None, True),  # no plan at all is not a paid plan
        ({0: 1, 6: 1}, "free", True),  # six days ago is inside a 7-day window
        ({0: 1, 7: 1}, "free", False),  # seven days ago is not
        ({3: 5}, "pro", False),
        ({0: 1}, "free", False),
        ({-1: 2}, "free", True),  # a client clock ahead of ours still counts
    ],
)
def test_pricing_intent_counts_views_in_the_window_and_checks_the_plan(
    views: dict[int, int], plan: str | None, member: bool
) -> None:
    catalog = parse_segments(PRICING)
    daily = {_day(ago): {"Viewed Pricing": n} for ago, n in views.items()}
    facts = _facts(daily, **({"plan": plan} if plan else {}))

    assert (member_segments(catalog, facts, TODAY) == {"pricing-intent"}) is member


def test_a_window_membership_expires_as_the_days_pass() -> None:
    catalog = parse_segments(PRICING)
    facts = _facts({_day(2): {"Viewed Pricing": 2}}, plan="free")

    members = [bool(member_segments(catalog, facts, TODAY + timedelta(days=d))) for d in range(6)]

    assert members == [True, True, True, True, True, False]


@pytest.mark.parametrize(
    ("rule", "traits", "expected"),
    [
        ({"trait": "plan", "equals": "pro"}, {"plan": "pro"}, True),
        ({"trait": "plan", "equals": "pro"}, {}, False),
        ({"trait": "plan", "not_equals": "pro"}, {}, True),
        ({"trait": "plan", "in": ["a", "b"]}, {"plan": "b"}, True),
        ({"trait": "plan", "not_in": ["a"]}, {"plan": None}, True),
        ({"trait": "plan", "exists": True}, {"plan": None}, False),
        ({"trait": "plan", "exists": False}, {}, True),
        ({"trait": "seats", "at_least": 5}, {"seats": 5}, True),
        ({"trait": "seats", "at_least": 5}, {"seats": "5"}, False),
        ({"trait": "seats", "at_most": 5}, {"seats": True}, False),
        ({"not": {"trait": "seats", "at_most": 5}}, {"seats": 9}, True),
        ({"any": [{"trait": "a", "exists": True}, {"trait": "b", "exists": True}]}, {"b": 1}, True),
    ],
)
def test_trait_predicates(
    rule: dict[str, object], traits: dict[str, object], expected: bool
) -> None:
    catalog = SegmentCatalog.model_validate(
        {"version": 1, "segments": [{"name": "s", "title": "S", "rule": rule}]}
    )

    assert holds(catalog.segments[0].rule, _facts(None, **traits), TODAY) is expected


def test_an_event_condition_without_window_counts_every_event_and_at_most_means_absence() -> None:
    catalog = SegmentCatalog.model_validate(
        {
            "version": 1,
            "segments": [
                {
                    "name": "dormant",
                    "title": "Bought, no session in 14 days",
                    "rule": {
                        "all": [
                            {"event": "Order Completed", "at_least": 1},
                            {"event": "Session Started", "at_most": 0, "within_days": 14},
                        ]
                    },
                }
            ],
        }
    )
    bought_long_ago = {_day(60): {"Order Completed": 1}, _day(20): {"Session Started": 3}}
    came_back = {**bought_long_ago, _day(13): {"Session Started": 1}}

    assert member_segments(catalog, _facts(bought_long_ago), TODAY) == {"dormant"}
    assert member_segments(catalog, _facts(came_back), TODAY) == set()
    assert member_segments(catalog, _facts({}), TODAY) == set()


@pytest.mark.parametrize(
    "rule",
    [
        {"event": "x"},  # no bound
        {"event": "x", "at_least": 1, "within_days": MAX_WINDOW_DAYS + 1},
        {"trait": "plan"},  # no operator
        {"trait": "plan", "equals": "a", "in": ["a"]},  # two operators
        {"event": "x", "trait": "y", "at_least": 1},  # two kinds
        {"all": []},
        {"whatever": 1},
    ],
)
def test_a_malformed_rule_is_refused(rule: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SegmentCatalog.model_validate(
            {"version": 1, "segments": [{"name": "s", "title": "S", "rule": rule}]}
        )


def test_segment_names_are_unique_and_simple() -> None:
    rule = {"trait": "a", "exists": True}
    with pytest.raises(ValidationError):
        SegmentCatalog.model_validate(
            {
                "version": 1,
                "segments": [{"name": n, "title": "S", "rule": rule} for n in ("a", "a")],
            }
        )
    with pytest.raises(ValidationError):
        SegmentCatalog.model_validate(
            {"version": 1, "segments": [{"name": "A:b", "title": "S", "rule": rule}]}
        )


def test_stale_day_buckets_are_those_no_window_reaches() -> None:
    facts = _facts({_day(MAX_WINDOW_DAYS - 1): {"x": 1}, _day(MAX_WINDOW_DAYS): {"x": 1}})

    assert stale_days(facts, TODAY) == [_day(MAX_WINDOW_DAYS)]


def test_a_change_id_is_the_same_for_every_copy_and_differs_per_entry() -> None:
    def membership(member: bool, entries: int) -> Membership:
        return Membership(segment="s", user_id="u", member=member, entries=entries, changed_at=NOW)

    first = membership(True, 1).change()
    copy = SegmentChange.model_validate_json(first.model_dump_json())

    assert first.change == "entered" and first.entry == 1
    assert copy.change_id == first.change_id == first.attributes()["change_id"]
    assert membership(False, 1).change().change_id != first.change_id
    assert membership(True, 2).change().change_id != first.change_id
