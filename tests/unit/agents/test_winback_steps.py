"""The win-back steps on the sample shop: whom they choose (never anyone who unsubscribed),
and what the drafted email says (the offer's own code, its date, nothing internal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.adapters.sample_source import SampleDataSource
from shared.agents.steps import StepContext
from shared.agents.winback_steps import draft_email, select_customers
from shared.core.agent_settings import resolve_agent_settings
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.email.offer_codes import offer_code
from shared.email.unsubscribe import Mailing, address_key
from shared.llm.offline import OfflineLLM
from shared.llm.types import Completion, CompletionRequest

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
SAMPLE = SampleDataSource(date(2026, 11, 16))
SECRET = b"k" * 32


class Suppressed:
    def __init__(self, *addresses: str) -> None:
        self.keys = {address_key(a) for a in addresses}

    def suppress(self, key: str, *, source: str, at: datetime) -> bool:
        raise AssertionError("a step never unsubscribes anyone")

    def suppressed_among(self, keys: Sequence[str]) -> set[str]:
        return self.keys & set(keys)


def context(*unsubscribed: str, llm: Any = OfflineLLM) -> StepContext:
    mailing = Mailing(Suppressed(*unsubscribed), SECRET, "https://s.example", "Northwind Goods")
    return StepContext(
        data=SAMPLE,
        llm=llm,
        settings=resolve_agent_settings,
        store=None,  # type: ignore[arg-type]
        email=lambda: None,
        clock=lambda: NOW,
        on_step=lambda step, detail: None,
        mailing=lambda: mailing,
    )


def task(step: str, **params: Any) -> AgentTask:
    return AgentTask(
        run_id="winback-1", task_id=step, agent="marketing", workflow="winback", step=step,
        params=params,
    )  # fmt: skip


def test_whoever_unsubscribed_is_left_out_and_the_next_in_line_is_chosen() -> None:
    everyone = select_customers(task("select", max_customers=5), context()).output["customers"]
    first = everyone[0]

    chosen = select_customers(task("select", max_customers=5), context(first["email"].upper()))

    customers = chosen.output["customers"]
    ids = [c["customer_id"] for c in customers]
    assert first["customer_id"] not in ids
    assert ids[:4] == [c["customer_id"] for c in everyone[1:5]]  # the rest keep their order
    assert len(ids) == 5 and ids[4] not in [c["customer_id"] for c in everyone]  # the sixth
    assert "1 more have unsubscribed" in chosen.output["rule"]


def test_a_named_customer_who_unsubscribed_gets_no_email() -> None:
    named = SAMPLE.load().customers[3]

    chosen = select_customers(task("select", customer_id=named.customer_id), context(named.email))

    assert chosen.output["customers"] == []
    assert "has unsubscribed" in chosen.output["rule"]


def test_the_draft_carries_the_customers_own_code_and_its_date_and_reads_clean() -> None:
    customer = {"customer_id": "cus_0162", "name": "Lea Roth", "email": "lea@example.com"}
    customer |= {"orders": 4, "weeks_since_last": 21}

    email = draft_email(task("draft", customer=customer), context()).output["email"]

    code = offer_code(SECRET, "winback-1", "cus_0162")
    assert email["code"] == code and code in email["body"]
    assert email["code_valid_until"] == "2026-12-16" and "16 December 2026" in email["body"]
    assert email["subject"] == "Lea, 20% off your next order is waiting"
    assert "cus_0162" not in email["body"] + email["subject"] and "{{" not in email["body"]


class Forgetful:
    """A model that leaves the code out, then one that writes an internal id."""

    def __init__(self, body: str) -> None:
        self.body = body

    def structured(self, request: CompletionRequest, model: Any) -> tuple[Any, Completion]:
        _, completion = OfflineLLM().structured(request, model)
        return model(subject="We miss you", body=self.body), completion


def test_a_draft_without_the_code_gets_it_added_and_one_with_an_internal_id_fails() -> None:
    customer = {"customer_id": "cus_0162", "name": "Lea Roth", "email": "lea@example.com"}
    customer |= {"orders": 4, "weeks_since_last": 21}
    forgetful = context(llm=lambda: Forgetful("Hi Lea, 20% off is yours."))

    email = draft_email(task("draft", customer=customer), forgetful).output["email"]

    assert email["body"].startswith("Hi Lea, 20% off is yours.")
    assert email["body"].endswith(f"Your code: {email['code']} (valid until 16 December 2026)")
    leaky = context(llm=lambda: Forgetful("Hi [first name], as cus_0162 you get 20% off."))
    with pytest.raises(PermanentError, match=r"copy check.*placeholder.*internal id"):
        draft_email(task("draft", customer=customer), leaky)
