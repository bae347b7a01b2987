"""Each workflow's params model: what a run may set, checked before anything is published."""

from __future__ import annotations

from typing import Any

import pytest

from shared.app.billing import start_winback_on_cancellation
from shared.core.agent_settings import bundled_policy
from shared.core.errors import InvalidParamsError, PermanentError
from shared.core.messages import RunRequest, StripeEvent
from shared.core.topology import RUN_REQUESTS_TOPIC, TOPOLOGY
from shared.tracking.segments import bundled_segments
from shared.workflows.ad_performance import AdPerformanceParams
from shared.workflows.growth import GrowthParams
from shared.workflows.params import APPROVAL_EXPIRES_AFTER_S, RunParams
from shared.workflows.registry import WORKFLOWS, get_workflow
from shared.workflows.weekly_gtm import WeeklyGtmParams
from shared.workflows.winback import WinbackParams

# A call that sets every field of each workflow to a value it takes (not the defaults).
GOOD: dict[str, dict[str, Any]] = {
    "weekly_gtm": {
        "window_days": 14,
        "churn_after_days": 60,
        "bgnbd_horizon_weeks": 8,
        "gross_margin": 0.4,
        "forecast_horizon_months": 6,
        "significance_alpha": 0.1,
        "shift_fraction": 0.2,
        "shift_max_increase": 0.25,
        "note": "quarter close",
    },
    "winback": {
        "customer_id": "cus_0064",
        "stripe_event": "evt_1QxA",
        "max_p_alive": 0.9,
        "min_p_alive": 0.1,
        "min_order_value_cents": 2500,
        "max_customers": 1000,
        "bgnbd_horizon_weeks": 26,
        "gross_margin": 0.6,
        "uplift": 0.1,
        "offer_cost_cents": 500,
        "send_cost_cents": 2,
        "baseline_purchase_rate": 0.03,
        "approval_expires_s": 3600,
    },
    "growth": {
        "segments": ["pricing-intent"],
        "platforms": ["meta", "linkedin"],
        "platform_share": {"meta": 0.6, "linkedin": 0.4},
        "daily_budget_cents": 20000,
        "min_campaign_budget_cents": 1000,
        "objective": "leads",
        "currency": "USD",
        "landing_url": "https://shop.example.com/demo",
        "significance_alpha": 0.01,
        "shift_fraction": 0.05,
        "shift_max_increase": 1.0,
        "approval_expires_s": 600,
    },
    "ad_performance": {
        "platforms": ["google_ads"],
        "day": "2026-11-15",
        "lookback_days": 14,
        "min_spend_cents": 0,
        "roas_floor": 1.5,
        "cut_fraction": 0.5,
        "max_increase": 0.3,
        "significance_alpha": 0.1,
        "approval_expires_s": 86400,
    },
}

# (workflow, params, the field named, the start of why)
INT, STR = "Input should be a valid integer", "Input should be a valid string"
GE, LE = "Input should be greater than or equal to", "Input should be less than or equal to"
EXTRA, PATTERN = "Extra inputs are not permitted", "String should match pattern"
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("weekly_gtm", {"window_days": "seven"}, "window_days", INT),
    ("weekly_gtm", {"window_days": 0}, "window_days", f"{GE} 1"),
    ("weekly_gtm", {"window_days": 7.5}, "window_days", INT),
    ("weekly_gtm", {"window_days": True}, "window_days", "Value error, true and false"),
    ("weekly_gtm", {"gross_margin": 1.5}, "gross_margin", f"{LE} 1"),
    ("weekly_gtm", {"gross_margin": float("nan")}, "gross_margin", "Input should be a finite"),
    ("weekly_gtm", {"significance_alpha": 1}, "significance_alpha", "Input should be less than 1"),
    ("weekly_gtm", {"windows_days": 7}, "windows_days", EXTRA),
    ("weekly_gtm", {"max_customers": 3}, "max_customers", EXTRA),
    ("weekly_gtm", {"note": ""}, "note", "String should have at least 1 character"),
    ("winback", {"max_customers": "all"}, "max_customers", INT),
    ("winback", {"max_customers": 0}, "max_customers", f"{GE} 1"),
    ("winback", {"max_p_alive": -0.1}, "max_p_alive", f"{GE} 0"),
    ("winback", {"min_p_alive": 0.6, "max_p_alive": 0.5}, "", "Value error, min_p_alive must"),
    ("winback", {"customer_id": ""}, "customer_id", "String should have at least 1 character"),
    ("winback", {"customer_id": 64}, "customer_id", STR),
    ("winback", {"approval_expires_s": 0}, "approval_expires_s", f"{GE} 1"),
    ("winback", {"offer": "50% off"}, "offer", EXTRA),
    ("growth", {"platforms": ["tiktok"]}, "platforms.0", "Input should be 'google_ads', 'meta'"),
    ("growth", {"platforms": ["meta", "meta"]}, "platforms", "Value error, must not name the same"),
    ("growth", {"platforms": []}, "platforms", "List should have at least 1 item"),
    ("growth", {"segments": "pricing-intent"}, "segments", "Input should be a valid list"),
    ("growth", {"segments": ["Pricing Intent"]}, "segments.0", PATTERN),
    (
        "growth",
        {"daily_budget_cents": -100},
        "daily_budget_cents",
        "Input should be greater than 0",
    ),
    ("growth", {"platform_share": {"meta": 2}}, "platform_share.meta", f"{LE} 1"),
    ("growth", {"platform_share": {"tiktok": 1}}, "platform_share.tiktok.[key]", "Input should be"),
    ("growth", {"currency": "euro"}, "currency", PATTERN),
    ("growth", {"landing_url": "javascript:alert(1)"}, "landing_url", PATTERN),
    ("growth", {"objective": "likes"}, "objective", "Input should be 'traffic', 'leads' or"),
    ("ad_performance", {"day": "yesterday"}, "day", "Input should be a valid date"),
    ("ad_performance", {"lookback_days": 365}, "lookback_days", f"{LE} 90"),
    ("ad_performance", {"cut_fraction": 0}, "cut_fraction", "Input should be greater than 0"),
    ("ad_performance", {"daily_budget_cents": 100}, "daily_budget_cents", EXTRA),
]


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_each_workflow_declares_a_params_model_that_forbids_unknown_fields(workflow: str) -> None:
    model = get_workflow(workflow).params_model

    assert model is not RunParams and issubclass(model, RunParams)
    assert model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("workflow", sorted(GOOD))
def test_a_good_call_passes_as_given(workflow: str) -> None:
    checked = get_workflow(workflow).validate_params(GOOD[workflow])

    assert checked == GOOD[workflow]


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_no_params_stay_no_params_so_the_policy_decides(workflow: str) -> None:
    assert get_workflow(workflow).validate_params({}) == {}


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_every_default_is_a_value_the_model_takes(workflow: str) -> None:
    model = get_workflow(workflow).params_model
    defaults = {name: f.default for name, f in model.model_fields.items() if f.default is not None}

    assert model.model_validate(defaults).model_dump(exclude_none=True).keys() == defaults.keys()


def test_numbers_sent_as_text_are_read_as_numbers() -> None:
    # A form posts text; the run's params hold the number.
    checked = get_workflow("weekly_gtm").validate_params(
        {"window_days": "14", "gross_margin": "0.5"}
    )

    assert checked == {"window_days": 14, "gross_margin": 0.5}


@pytest.mark.parametrize(("workflow", "params", "field", "why"), BAD)
def test_a_bad_value_is_refused_naming_the_field_and_why(
    workflow: str, params: dict[str, Any], field: str, why: str
) -> None:
    with pytest.raises(InvalidParamsError) as refused:
        get_workflow(workflow).validate_params(params)

    named = f"params.{field}" if field else "params"
    assert str(refused.value).startswith(f"{named}: {why}")
    assert isinstance(refused.value, PermanentError) and refused.value.http_status == 400


def test_an_unknown_field_is_answered_with_the_fields_the_workflow_takes() -> None:
    with pytest.raises(InvalidParamsError) as refused:
        get_workflow("weekly_gtm").validate_params({"windows_days": 7})

    assert str(refused.value).endswith(
        "(weekly_gtm takes: note, significance_alpha, shift_fraction, shift_max_increase, "
        "window_days, churn_after_days, bgnbd_horizon_weeks, gross_margin, "
        "forecast_horizon_months)"
    )


# What each workflow's steps read from the run's params today, besides the note: by agent
# policy, the values its steps take from {**policy, **run params}; then its own parameters.
# Left out on purpose: winback_email's `offer` (a draft's task carries the customer, not
# the run's params, so the policy alone decides it) and the leads policy's scoring rules
# (it names only `segments` as a run parameter; the rules are versioned with the policy).
READ_TODAY: dict[str, dict[str, list[str]]] = {
    "weekly_gtm": {
        "support": ["window_days"],
        "insights": ["churn_after_days", "bgnbd_horizon_weeks"],
        "finance": ["gross_margin", "forecast_horizon_months"],
        "marketing": ["significance_alpha", "shift_fraction", "shift_max_increase"],
    },
    "winback": {
        "winback_email": ["max_p_alive", "min_p_alive", "min_order_value_cents", "max_customers",
                          "bgnbd_horizon_weeks", "gross_margin", "uplift", "offer_cost_cents",
                          "send_cost_cents", "baseline_purchase_rate"],
        "own": ["customer_id", "stripe_event", "approval_expires_s"],
    },
    "growth": {
        "leads": ["segments"],
        "ad_manager": ["segments", "platforms", "platform_share", "daily_budget_cents",
                       "min_campaign_budget_cents", "objective", "currency", "landing_url"],
        "marketing": ["significance_alpha", "shift_fraction", "shift_max_increase"],
        "own": ["approval_expires_s"],
    },
    "ad_performance": {
        "ad_manager": ["platforms", "lookback_days", "min_spend_cents", "roas_floor",
                       "cut_fraction", "max_increase", "significance_alpha"],
        "own": ["day", "approval_expires_s"],
    },
}  # fmt: skip


@pytest.mark.parametrize("workflow", sorted(READ_TODAY))
def test_every_param_the_workflow_reads_today_is_taken(workflow: str) -> None:
    read = READ_TODAY[workflow]
    from_policies = {a: k for a, k in read.items() if a != "own"}

    for agent, keys in from_policies.items():
        assert set(keys) <= set(bundled_policy(agent).values), agent
    taken = set(get_workflow(workflow).params_model.model_fields)
    assert taken == {"note", *(key for keys in read.values() for key in keys)}


@pytest.mark.parametrize(
    ("model", "agent", "fields"),
    [
        (WeeklyGtmParams, "support", ["window_days"]),
        (WeeklyGtmParams, "insights", ["churn_after_days", "bgnbd_horizon_weeks"]),
        (WeeklyGtmParams, "finance", ["gross_margin", "forecast_horizon_months"]),
        (WeeklyGtmParams, "marketing", ["significance_alpha", "shift_fraction"]),
        (WinbackParams, "winback_email", ["max_p_alive", "max_customers", "uplift"]),
        (GrowthParams, "ad_manager", ["platforms", "daily_budget_cents", "landing_url"]),
        (GrowthParams, "leads", ["segments"]),
        (AdPerformanceParams, "ad_manager", ["lookback_days", "roas_floor", "cut_fraction"]),
    ],
)
def test_defaults_are_the_bundled_policy_values(
    model: type[RunParams], agent: str, fields: list[str]
) -> None:
    values = bundled_policy(agent).values

    assert {f: model.model_fields[f].default for f in fields} == {f: values[f] for f in fields}


def test_an_approval_waits_three_days_unless_the_run_says_otherwise() -> None:
    assert WinbackParams.model_fields["approval_expires_s"].default == APPROVAL_EXPIRES_AFTER_S
    assert {s.expires_after_s for wf in WORKFLOWS.values() for s in wf.steps} == {
        APPROVAL_EXPIRES_AFTER_S
    }


@pytest.mark.parametrize(
    "schedule",
    [s for s in TOPOLOGY.schedules if s.topic == RUN_REQUESTS_TOPIC],
    ids=lambda s: s.name,
)
def test_every_scheduled_run_request_carries_params_its_workflow_takes(schedule: Any) -> None:
    request = RunRequest.model_validate(schedule.payload)

    assert get_workflow(request.workflow).validate_params(request.params) == request.params


def test_every_segment_that_starts_a_workflow_gives_it_params_it_takes() -> None:
    starting = [s for s in bundled_segments().segments if s.on_enter is not None]

    assert starting, "the bundled segments start at least one workflow"
    for segment in starting:
        assert segment.on_enter is not None
        params = {**segment.on_enter.params, segment.on_enter.user_param: "user-1"}
        get_workflow(segment.on_enter.workflow).validate_params(params)


class CapturingBus:
    """A bus that keeps what is published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []

    def publish(self, topic: str, message: Any) -> None:
        self.published.append((topic, message))


def test_a_stripe_cancellation_asks_for_a_winback_with_params_it_takes() -> None:
    bus = CapturingBus()
    event = StripeEvent.model_validate(
        {
            "id": "evt_1QxA",
            "type": "customer.subscription.deleted",
            "created": "2026-11-16T08:00:00Z",
            "customer_id": "cus_0064",
            "object_id": "sub_1QxA",
            "is_churn_signal": True,
        }
    )

    start_winback_on_cancellation(event, bus=bus)  # type: ignore[arg-type]

    [(_, request)] = bus.published
    assert get_workflow("winback").validate_params(request.params) == {
        "customer_id": "cus_0064",
        "stripe_event": "evt_1QxA",
    }
