"""The growth and ad-performance workflows' planners: what each step asks of whom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.core.documents import ApprovalDoc, RunDoc, TaskDoc
from shared.core.models import ApprovalStatus, TaskStatus
from shared.workflows import ad_performance, growth
from tests.helpers.fakes.run_history import History

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def run(workflow: str = "growth", **params: object) -> RunDoc:
    return RunDoc(
        run_id="gr-1", workflow=workflow, trigger="api", task_count=0, created_at=NOW,
        params=params,
    )  # fmt: skip


def task(step: str, task_id: str, output: dict[str, object], ok: bool = True) -> TaskDoc:
    return TaskDoc(
        run_id="gr-1",
        task_id=task_id,
        agent="ads",
        step=step,
        status=TaskStatus.SUCCEEDED if ok else TaskStatus.FAILED,
        output=output,
        created_at=NOW,
    )


def approved(**edits: object) -> dict[str, ApprovalDoc]:
    decision = ApprovalDoc(
        run_id="gr-1",
        step="approve",
        workflow="growth",
        title="t",
        proposal={},
        requested_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        status=ApprovalStatus.APPROVED,
        edits=edits,
    )
    return {"approve": decision}


def campaign(key: str, platform: str = "meta", budget: int = 2000) -> dict[str, object]:
    return {"campaign_key": key, "platform": platform, "daily_budget_cents": budget,
            "currency": "EUR", "name": f"controlroom [{key}]"}  # fmt: skip


REFRESHED = task("refresh", "refresh", {"segments": {"pricing-intent": 12, "engaged-shoppers": 0}})
BRIEF = task("brief", "brief", {"drafts": {"brief": "Lead with the free trial."}})


def test_drafts_go_to_each_platform_with_the_audiences_that_have_members_and_the_brief() -> None:
    specs = growth.plan_drafts(run(), History([REFRESHED, BRIEF]))

    assert [s.task_id for s in specs] == ["draft-google_ads", "draft-meta", "draft-linkedin"]
    assert all(s.agent == "ads" for s in specs)
    audiences = specs[0].input["audiences"]
    assert [a["segment"] for a in audiences] == ["pricing-intent"]  # the empty one is left out
    assert audiences[0]["size"] == 12
    assert audiences[0]["title"].startswith("Viewed pricing twice")
    assert specs[1].input["brief"] == "Lead with the free trial."


def test_a_run_may_name_its_platforms_and_no_audience_means_no_draft() -> None:
    assert [s.task_id for s in growth.plan_drafts(run(platforms=["meta"]), History([REFRESHED]))] \
        == ["draft-meta"]  # fmt: skip
    empty = task("refresh", "refresh", {"segments": {"pricing-intent": 0}})
    assert growth.plan_drafts(run(), History([empty])) == []


def test_approval_is_asked_only_for_drafted_campaigns_and_says_what_would_be_spent() -> None:
    drafts = [
        task(
            "draft", "draft-meta", {"campaigns": [campaign("cmp-aaaaaa"), campaign("cmp-bbbbbb")]}
        ),
        task("draft", "draft-linkedin", {}, ok=False),
    ]
    history = History([REFRESHED, BRIEF, *drafts])

    proposal = growth.propose_campaigns(run(), history)

    assert growth.campaigns_drafted(run(), history)
    assert not growth.campaigns_drafted(run(), History([REFRESHED]))
    assert proposal["action"] == "Publish 2 ad campaigns, 40.00 EUR/day in all"
    assert proposal["brief"] == "Lead with the free trial."
    assert set(proposal["editable"]) == {"exclude", "budgets"}


def test_publishing_follows_the_decision_exclusions_and_budget_edits() -> None:
    drafts = [task("draft", "draft-meta", {"campaigns": [campaign("cmp-aaaaaa"),
                                                         campaign("cmp-bbbbbb")]})]  # fmt: skip
    history = History(drafts, approved(exclude=["cmp-bbbbbb"], budgets={"cmp-aaaaaa": 900}))

    specs = growth.plan_publishing(run(), history)

    assert [s.task_id for s in specs] == ["publish-cmp-aaaaaa"]
    assert specs[0].input["campaign"]["daily_budget_cents"] == 900


def change(key: str) -> dict[str, object]:
    return {"campaign_key": key, "platform": "meta", "external_id": f"x-{key}",
            "from_cents": 2000, "to_cents": 1400, "reason": "ROAS 0.40"}  # fmt: skip


def test_performance_pulls_every_platform_and_reallocation_waits_for_its_changes() -> None:
    pulls = ad_performance.plan_pulls(run("ad_performance", day="2026-11-15"), History([]))
    nothing = History([task("review", "review", {"changes": [], "summary": "none flagged"})])
    some = History([task("review", "review", {"changes": [change("cmp-aaaaaa"),
                                                          change("cmp-bbbbbb")]})])  # fmt: skip

    assert [s.input["platform"] for s in pulls] == ["google_ads", "meta", "linkedin"]
    assert pulls[0].input["day"] == "2026-11-15"
    assert not ad_performance.changes_proposed(run(), nothing)
    assert ad_performance.changes_proposed(run(), some)
    assert ad_performance.propose_reallocation(run(), some)["action"].startswith(
        "Change 2 daily budgets"
    )


def test_only_approved_changes_are_applied() -> None:
    history = History(
        [task("review", "review", {"changes": [change("cmp-aaaaaa"), change("cmp-bbbbbb")]})],
        approved(exclude=["cmp-aaaaaa"]),
    )

    specs = ad_performance.plan_changes(run(), history)

    assert [s.task_id for s in specs] == ["budget-cmp-bbbbbb"]
    assert specs[0].input["change"]["to_cents"] == 1400
