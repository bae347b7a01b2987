"""What a task is for, in words, from the input its step planned: the customer an email is
drafted for, the platform a campaign goes to. A run page row says it before the task ends."""

from __future__ import annotations

from typing import Any

from shared.core.documents import TaskDoc


def _customer(found: Any) -> str:
    if not isinstance(found, dict):
        return ""
    name = str(found.get("name") or found.get("first_name") or "").strip()
    ident = str(found.get("customer_id") or "").strip()
    return f"{name} ({ident})" if name and ident else name or ident


def task_purpose(task: TaskDoc) -> str:
    """A short phrase: "email for Lea Roth (cus_0162)", "campaigns on tiktok", ... or ""."""
    given = task.input or {}
    if isinstance(given.get("email"), dict):
        email = given["email"]
        who = _customer(email) or str(email.get("to") or "")
        subject = str(email.get("subject") or "")
        return f"send to {who}: “{subject}”" if subject else f"send to {who}"
    if isinstance(given.get("customer"), dict):
        return f"email for {_customer(given['customer'])}"
    if given.get("campaign_key"):
        return f"campaign {given['campaign_key']}"
    if isinstance(given.get("campaign"), dict) and given["campaign"].get("campaign_key"):
        return f"campaign {given['campaign']['campaign_key']}"
    if given.get("platform"):
        verb = "campaigns on" if given.get("audiences") else "figures from"
        return f"{verb} {given['platform']}"
    if isinstance(given.get("targets"), list):
        return f"{len(given['targets'])} customers"
    return ""
