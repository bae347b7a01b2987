"""A run page row says what its task is for before the task has any output."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.core.documents import TaskDoc
from shared.web.task_labels import task_purpose

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def _task(given: dict[str, Any]) -> TaskDoc:
    return TaskDoc(run_id="r", task_id="t", agent="marketing", created_at=NOW, input=given)


@pytest.mark.parametrize(
    ("given", "purpose"),
    [
        ({"customer": {"customer_id": "cus_1", "name": "Lea Roth"}}, "email for Lea Roth (cus_1)"),
        (
            {"email": {"customer_id": "cus_1", "name": "Lea Roth", "subject": "We miss you"}},
            "send to Lea Roth (cus_1): “We miss you”",
        ),
        ({"platform": "tiktok", "audiences": [{"segment": "a"}]}, "campaigns on tiktok"),
        ({"platform": "google_ads"}, "figures from google_ads"),
        ({"campaign_key": "growth-1-tiktok-a"}, "campaign growth-1-tiktok-a"),
        ({"targets": [{}, {}, {}]}, "3 customers"),
        ({"window_days": 7}, ""),
    ],
)
def test_the_purpose_names_the_customer_platform_or_campaign(
    given: dict[str, Any], purpose: str
) -> None:
    assert task_purpose(_task(given)) == purpose
