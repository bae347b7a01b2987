"""Support statistics per platform and day, on seeded conversations with figures by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.core.documents import KbDraftDoc, MessageDoc, Resolution, TicketDoc
from shared.core.effects import support_run_id
from shared.core.messages import InboundMessage, InboundUser
from tests.conftest import Emulators
from tests.helpers.status_client import status_client
from tests.helpers.tickets import open_ticket

pytestmark = pytest.mark.integration

D0 = datetime(2026, 11, 13, tzinfo=UTC)  # the day before the window
D1 = datetime(2026, 11, 14, tzinfo=UTC)
D2 = datetime(2026, 11, 15, tzinfo=UTC)


def _at(day: datetime, clock: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return day + timedelta(hours=hours, minutes=minutes, seconds=seconds)


class Seeder:
    """Writes conversations through the adapter's own methods, at chosen times."""

    def __init__(self, store: FirestoreConversations) -> None:
        self.store = store

    def customer(self, platform: str, thread: str, message: str, at: datetime) -> str:
        inbound = InboundMessage(
            platform=platform,  # type: ignore[arg-type]
            platform_message_id=message,
            conversation_key=f"{platform}:{thread}",
            user=InboundUser(platform_user_id=f"user-{thread}"),
            text="Help, please",
            sent_at=at,
            raw_event_type="message",
        )
        return self.store.record_inbound(inbound, at).record_id

    def agent_reply(self, key: str, message_id: str, at: datetime) -> None:
        self.store.begin_effect(support_run_id(message_id), "reply", at)
        reply = MessageDoc(
            message_id=f"reply-{message_id}", role="agent", text="Done.", at=at,
            in_reply_to=message_id,
        )  # fmt: skip
        self.store.complete_reply(support_run_id(message_id), reply, key, at)

    def escalate(self, key: str, message_id: str, at: datetime) -> None:
        ticket = TicketDoc(
            ticket_id=message_id, conversation_key=key, message_id=message_id,
            reason="needs a person", created_at=at,
        )  # fmt: skip
        open_ticket(self.store, ticket, at)

    def human_reply(self, key: str, message_id: str, at: datetime) -> None:
        self.store.begin_effect(support_run_id(message_id), "resolve", at)
        reply = MessageDoc(
            message_id=f"resolve-{message_id}", role="human", text="Sorted.", at=at,
            in_reply_to=message_id,
        )  # fmt: skip
        resolution = Resolution(
            ticket_id=message_id, message_id=reply.message_id, resolved_by="Grace", resolved_at=at
        )
        draft = KbDraftDoc(
            draft_id=message_id, question="Help, please", answer="Sorted.",
            conversation_key=key, ticket_id=message_id, created_by="Grace", created_at=at,
        )  # fmt: skip
        self.store.complete_resolution(
            support_run_id(message_id), reply, resolution, draft, key, at
        )


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    seed = Seeder(FirestoreConversations(clean_emulators.project))
    # generic, day 1: two answered by the agent in 4 s and 10 s, one escalated and answered
    # by a person after 1800 s. Day 2: one escalated, not answered yet.
    m1 = seed.customer("generic", "g1", "m1", _at(D1, "10:00:00"))
    seed.agent_reply("generic:g1", m1, _at(D1, "10:00:04"))
    m2 = seed.customer("generic", "g1", "m2", _at(D1, "11:00:00"))
    seed.agent_reply("generic:g1", m2, _at(D1, "11:00:10"))
    m3 = seed.customer("generic", "g2", "m3", _at(D1, "12:00:00"))
    seed.escalate("generic:g2", m3, _at(D1, "12:00:01"))
    seed.human_reply("generic:g2", m3, _at(D1, "12:30:00"))
    m4 = seed.customer("generic", "g3", "m4", _at(D2, "09:00:00"))
    seed.escalate("generic:g3", m4, _at(D2, "09:00:02"))
    # tiktok, day 1: answered in 6 s. Day 2: one answered in 5 s just after midnight (it
    # counts on the day it was sent), one neither answered nor escalated yet.
    t1 = seed.customer("tiktok", "k1", "t1", _at(D1, "08:00:00"))
    seed.agent_reply("tiktok:k1", t1, _at(D1, "08:00:06"))
    t2 = seed.customer("tiktok", "k1", "t2", _at(D2, "23:59:58"))
    seed.agent_reply("tiktok:k1", t2, _at(D2 + timedelta(days=1), "00:00:03"))
    seed.customer("tiktok", "k2", "t3", _at(D2, "10:00:00"))
    # Outside the window: the day before, answered and escalated, never counted.
    t0 = seed.customer("tiktok", "k0", "t0", _at(D0, "20:00:00"))
    seed.escalate("tiktok:k0", t0, _at(D0, "20:00:01"))
    return status_client()  # the API token may read


def _row(
    day: str | None, platform: str, messages: int, escalated: int, deflected: int,
    pending: int, median: float | None, mean: float | None,
    escalation: float | None, deflection: float | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "day": day, "platform": platform, "messages": messages, "escalated": escalated,
        "deflected": deflected, "pending": pending, "first_response_median_s": median,
        "first_response_mean_s": mean, "escalation_rate": escalation,
        "deflection_rate": deflection,
    }  # fmt: skip


def test_stats_per_platform_and_day_match_the_hand_computed_figures(
    client: flask.testing.FlaskClient,
) -> None:
    body = client.get("/api/support/stats?since=2026-11-14&until=2026-11-15").get_json()

    assert (body["since"], body["until"]) == ("2026-11-14", "2026-11-15")
    assert body["days"] == [
        # first responses 4, 10, 1800 s: median 10, mean 1814 / 3
        _row("2026-11-14", "generic", 3, 1, 2, 0, 10.0, 604.667, 0.3333, 0.6667),
        _row("2026-11-14", "tiktok", 1, 0, 1, 0, 6.0, 6.0, 0.0, 1.0),
        _row("2026-11-15", "generic", 1, 1, 0, 0, None, None, 1.0, 0.0),
        _row("2026-11-15", "tiktok", 2, 0, 1, 1, 5.0, 5.0, 0.0, 0.5),
    ]
    assert body["totals"] == [
        _row(None, "generic", 4, 2, 2, 0, 10.0, 604.667, 0.5, 0.5),
        _row(None, "tiktok", 3, 0, 2, 1, 5.5, 5.5, 0.0, 0.6667),
    ]


def test_the_stats_page_shows_the_same_figures(client: flask.testing.FlaskClient) -> None:
    html = client.get("/support/stats?since=2026-11-14&until=2026-11-15").get_data(as_text=True)

    assert "<td>2026-11-14</td><td>generic</td><td>3</td>" in html
    assert "<td>10.0 s</td><td>604.7 s</td>" in html
    assert "<td>33.3%</td><td>66.7%</td>" in html
    assert "<td>all days</td><td>tiktok</td><td>3</td>" in html


def test_a_window_without_messages_is_empty(client: flask.testing.FlaskClient) -> None:
    body = client.get("/api/support/stats?since=2026-10-01&until=2026-10-31").get_json()

    assert (body["days"], body["totals"]) == ([], [])


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("since=2026-11-15&until=2026-11-14", "since must not be after until"),
        ("since=2026-01-01&until=2026-11-14", "at most 92 days"),
        ("since=14/11/2026", "since"),
        ("days=7", "days: Extra inputs are not permitted"),
    ],
)
def test_bad_stats_parameters_are_400(
    client: flask.testing.FlaskClient, query: str, error: str
) -> None:
    response = client.get(f"/api/support/stats?{query}")

    assert response.status_code == 400
    assert error in response.get_json()["error"]
