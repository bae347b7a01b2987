"""The agents' work in a win-back campaign: choose, draft, price, send (see
shared.workflows.winback for the order and the approval).

Figures come from code (BG/NBD, the ROI model); the model only writes the email's words, from
the customer's first name and computed figures, never from the address. Sending goes through
one effect record per run and customer, so a redelivered or retried task does not send again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from shared.agents.steps import StepContext, drafts_request, usage_of
from shared.analytics.bgnbd import churn_forecast
from shared.analytics.transactions import purchases_from_dataset
from shared.analytics.winback import WinbackAssumptions, winback_offer_roi, winback_targets
from shared.core.copy_check import copy_problems
from shared.core.documents import EffectRecord
from shared.core.effects import perform_once
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.core.models import LlmUsage
from shared.core.ports import AgentOutcome

SETTINGS = "winback_email"


def _values(task: AgentTask, ctx: StepContext) -> dict[str, Any]:
    """The policy's values with the run's parameters on top."""
    return {**ctx.settings(SETTINGS).policy.values, **task.params}


def select_customers(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Repeat buyers whose P(alive) fell below the ceiling, most valuable first; or the one
    customer a cancellation names."""
    values = _values(task, ctx)
    dataset = ctx.data.load()
    purchases = purchases_from_dataset(dataset)
    forecast = churn_forecast(
        purchases, dataset.as_of, time_unit="weeks", horizon=float(values["bgnbd_horizon_weeks"])
    )
    people = {c.customer_id: c for c in dataset.customers}
    scores = {s.customer_id: s for s in forecast.customers}
    wanted = values.get("customer_id")
    if wanted:
        if wanted not in people:
            raise PermanentError(f"customer {wanted!r} is not in the {type(ctx.data).__name__}")
        unsubscribed = ctx.mailing().unsubscribed([people[wanted].email])
        chosen_ids = [wanted] if people[wanted].email not in unsubscribed else []
        rule = f"the customer {wanted} named by the trigger" + (
            "" if chosen_ids else ", who has unsubscribed from offers"
        )
    else:
        floor = int(values["min_order_value_cents"])
        targets = winback_targets(
            forecast,
            min_p_alive=float(values["min_p_alive"]),
            max_p_alive=float(values["max_p_alive"]),
        )
        targets = [t for t in targets if (t.average_order_value_cents or 0) >= floor]
        unsubscribed = ctx.mailing().unsubscribed([people[t.customer_id].email for t in targets])
        left = [t for t in targets if people[t.customer_id].email in unsubscribed]
        targets = [t for t in targets if people[t.customer_id].email not in unsubscribed]
        targets.sort(key=lambda t: (-(t.average_order_value_cents or 0), t.customer_id))
        chosen_ids = [t.customer_id for t in targets[: int(values["max_customers"])]]
        rule = (
            f"{len(targets)} repeat buyers with P(alive) below {values['max_p_alive']} and an "
            f"average order of at least {floor / 100:.2f}; the {len(chosen_ids)} most valuable"
        ) + (f" ({len(left)} more have unsubscribed from offers)" if left else "")
    last_order = {
        p.customer_id: p.purchase_date for p in sorted(purchases, key=lambda p: p.purchase_date)
    }
    customers = []
    for customer_id in chosen_ids:
        person, score = people[customer_id], scores.get(customer_id)
        last = last_order.get(customer_id)
        customers.append(
            {
                "customer_id": customer_id,
                "name": person.name,
                "email": person.email,
                "p_alive": round(score.p_alive, 4) if score else 0.0,
                "orders": (score.frequency + 1) if score else 0,
                "average_order_value_cents": (score.average_order_value_cents or 0) if score else 0,
                "weeks_since_last": (dataset.as_of - last).days // 7 if last else None,
            }
        )
    ctx.on_step("select", f"chose {len(customers)} customers: {rule}")
    return AgentOutcome(
        output={"customers": customers, "rule": rule, "versions": _versions(ctx)},
        usage=LlmUsage(),
    )


class WinbackEmail(BaseModel):
    """The words of one win-back email."""

    subject: str = Field(min_length=1, max_length=150)
    body: str = Field(min_length=1, max_length=5000)


def draft_email(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """One personalised email for one customer, with the offer's own code in it; a draft
    that fails the copy check (a placeholder, template syntax, an internal id) fails the step
    before anyone can approve it."""
    from shared.email.offer_codes import offer_code

    customer = task.params["customer"]
    settings = ctx.settings(SETTINGS)
    values = settings.policy.values
    code = offer_code(ctx.mailing().secret, task.run_id, str(customer["customer_id"]))
    valid_until = ctx.clock().date() + timedelta(days=int(values.get("offer_valid_days", 30)))
    facts = {
        "first_name": str(customer["name"]).split()[0],
        "orders": customer["orders"],
        "weeks_since_last": customer["weeks_since_last"],
        "offer": values["offer"],
        "code": code,
        "valid_until": f"{valid_until.day} {valid_until:%B %Y}",
    }
    request = drafts_request(settings, facts, agent="marketing")
    email, completion = ctx.llm().structured(request, WinbackEmail)
    body = email.body
    if code not in body:  # a model may leave out what it was given: the code must be there
        body = f"{body.rstrip()}\n\nYour code: {code} (valid until {facts['valid_until']})"
    problems = [
        f"{part}: {problem}"
        for part, text in (("subject", email.subject), ("body", body))
        for problem in copy_problems(text, internal=[str(customer["customer_id"])])
    ]
    if problems:
        raise PermanentError(f"the email fails the copy check: {'; '.join(problems)}")
    ctx.on_step("draft", f"drafted '{email.subject}' with {completion.provider}")
    output = {
        "email": {
            "customer_id": customer["customer_id"],
            "to": customer["email"],
            "name": customer["name"],
            "subject": email.subject,
            "body": body,
            "code": code,
            "code_valid_until": valid_until.isoformat(),
        },
        "versions": settings.versions(),
    }
    usage = usage_of([completion])
    return AgentOutcome(output=output, usage=usage)


def estimate_campaign(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Expected cost, value and ROI of sending the offer to the drafted customers."""
    values = _values(task, ctx)
    targets = task.params.get("targets", [])
    dataset = ctx.data.load()
    basket = (
        sum(o.amount_cents for o in dataset.orders) // len(dataset.orders) if dataset.orders else 0
    )
    assumptions = WinbackAssumptions(
        value_per_purchase_cents=int(basket * float(values["gross_margin"])),
        uplift=float(values["uplift"]),
        offer_cost_cents=int(values["offer_cost_cents"]),
        send_cost_cents=int(values["send_cost_cents"]),
        baseline_purchase_rate=float(values["baseline_purchase_rate"]),
    )
    estimate = winback_offer_roi([float(t["p_alive"]) for t in targets], assumptions)
    verdict = "worth sending" if estimate.worth_sending else "loses money"
    ctx.on_step(
        "estimate",
        f"{len(targets)} customers: net value {estimate.net_value_cents / 100:.2f}, "
        f"ROI {estimate.roi}, {verdict}",
    )
    return AgentOutcome(
        output={"estimate": estimate.model_dump(mode="json"), "versions": _versions(ctx)},
        usage=LlmUsage(),
    )


def send_email(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Send one customer's email once: an effect record per run and customer guards it.

    A record already done sends nothing. A record left as an intent (a crash between the
    provider's answer and the record) asks the provider whether the message left, where the
    provider can tell; otherwise it sends again (see shared.email for each guarantee).
    """
    from shared.email import OutgoingEmail, SentEmail, idempotency_key
    from shared.email.unsubscribe import unsubscribe_headers, with_footer

    email = task.params["email"]
    key = idempotency_key(task.run_id, email["customer_id"])
    mailing = ctx.mailing()

    def described(sent: SentEmail) -> dict[str, Any]:
        return {
            "customer_id": email["customer_id"],
            "to": email["to"],
            "subject": email["subject"],
            "provider": sent.provider,
            "provider_message_id": sent.provider_message_id,
            "sent_at": ctx.clock().isoformat(),
            "discount_code": email.get("code", ""),
            "code_valid_until": email.get("code_valid_until", ""),
        }

    def send(record: EffectRecord) -> dict[str, Any]:
        # Asked at the last moment: someone may unsubscribe between the approval and the send.
        if mailing.unsubscribed([email["to"]]):
            return {"customer_id": email["customer_id"], "skipped": "unsubscribed"}
        link = mailing.link(email["to"])
        message = OutgoingEmail(
            to=f"{email['name']} <{email['to']}>",
            subject=email["subject"],
            text=with_footer(email["body"], link, mailing.shop),
            idempotency_key=key,
            headers=unsubscribe_headers(link),
        )
        return described(ctx.email().send(message))

    def find(record: EffectRecord) -> dict[str, Any] | None:
        found = ctx.email().find_sent(key)
        return described(found) if found else None

    outcome = perform_once(
        ctx.store, task.run_id, f"email-{email['customer_id']}", send, clock=ctx.clock, find=find
    )
    result = outcome.result or {}
    how = "found already sent" if outcome.found else "sent"
    if not outcome.performed and not outcome.found:
        how = "already sent"
    if "skipped" in result:
        how = "not sent (unsubscribed)"
    via = f" via {result['provider']}" if "provider" in result else ""
    ctx.on_step("send", f"{how} to customer {email['customer_id']}{via}")
    return AgentOutcome(output={"sent": outcome.result}, usage=LlmUsage())


def _versions(ctx: StepContext) -> dict[str, str]:
    return ctx.settings(SETTINGS).versions()
