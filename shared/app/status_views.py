"""What the status function reads and accepts, without HTTP or Firestore.

    RunsParams / RunCursor   the runs list's filters and its page cursor (query parameters)
    StatsParams, support_stats
                             per platform and UTC day: messages, first-response time,
                             escalation and deflection rates
    ChatPost, post_chat_message, chat_view
                             the site chat: a visitor's message stored and handed to the
                             support agent through the webhook use case, and the thread shown
                             back to the visitor

Every parse raises InvalidRequestError (400) with a message naming the parameter.
"""

from __future__ import annotations

import base64
import binascii
import re
import statistics
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.app.ingest_webhook import WebhookOutcome, ingest_support_webhook
from shared.app.resolve_conversation import parse_body
from shared.core.documents import ConversationDoc, MessageDoc
from shared.core.errors import InvalidRequestError, TooManyRequestsError
from shared.core.models import RunStatus
from shared.core.ports import Bus, ConversationStore

MAX_RUNS = 100
DEFAULT_RUNS = 50
MAX_STATS_DAYS = 92
DEFAULT_STATS_DAYS = 14
RATIO_DECIMALS = 4

# --- runs list -------------------------------------------------------------------------


@dataclass(frozen=True)
class RunCursor:
    """Where the next page of runs starts: after this run in (created_at, run_id) order."""

    created_at: datetime
    run_id: str

    def encode(self) -> str:
        """An opaque URL-safe token."""
        raw = f"{self.created_at.isoformat()}|{self.run_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> RunCursor:
        """The cursor in a token from `encode`; InvalidRequestError for anything else."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stamp, separator, run_id = raw.partition("|")
            created_at = datetime.fromisoformat(stamp)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidRequestError("cursor: not a cursor this page handed out") from None
        if not separator or not run_id or created_at.tzinfo is None:
            raise InvalidRequestError("cursor: not a cursor this page handed out")
        return cls(created_at, run_id)


WorkflowName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# A UTC day a query may name: windows reach back up to MAX_STATS_DAYS before their last day
# and read a week past it (stats_window); beyond that, date arithmetic overflows (a 500).
Day = Annotated[
    date, Field(ge=date.min + timedelta(days=MAX_STATS_DAYS), le=date.max - timedelta(days=8))
]


class QueryParams(BaseModel):
    """Query parameters: unknown names are errors, blank values (empty form fields) absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Self:
        """The parameters in a request's query string."""
        return parse_body(cls, {name: value for name, value in args.items() if value != ""})


class RunsParams(QueryParams):
    """GET /runs?workflow=&status=&since=&until=&cursor=&limit= (dates are UTC days)."""

    workflow: WorkflowName | None = None
    status: RunStatus | None = None
    since: Day | None = None
    until: Day | None = None
    cursor: str | None = None
    limit: int = Field(default=DEFAULT_RUNS, ge=1, le=MAX_RUNS)

    @model_validator(mode="after")
    def _check(self) -> RunsParams:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        if self.cursor is not None:
            RunCursor.decode(self.cursor)
        return self

    @property
    def after(self) -> RunCursor | None:
        """The cursor this page starts after, if any."""
        return RunCursor.decode(self.cursor) if self.cursor else None

    @property
    def created_from(self) -> datetime | None:
        """The earliest creation time included (start of `since`)."""
        return midnight(self.since) if self.since else None

    @property
    def created_before(self) -> datetime | None:
        """The first creation time excluded (end of `until`)."""
        return midnight(self.until + timedelta(days=1)) if self.until else None

    def query_string(self, cursor: RunCursor | None = None) -> dict[str, str]:
        """These filters (and a cursor) as query parameters, for links to other pages."""
        params = {
            "workflow": self.workflow or "",
            "status": self.status.value if self.status else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "limit": str(self.limit) if self.limit != DEFAULT_RUNS else "",
            "cursor": cursor.encode() if cursor else "",
        }
        return {name: value for name, value in params.items() if value}


def midnight(day: date) -> datetime:
    """The start of a UTC day."""
    return datetime.combine(day, time(0), UTC)


# --- support statistics ----------------------------------------------------------------


class StatsParams(QueryParams):
    """GET /support/stats?since=&until= (UTC days, inclusive; the 14 days to today by default)."""

    since: Day | None = None
    until: Day | None = None

    def window(self, today: date) -> tuple[date, date]:
        """The first and last day covered."""
        until = self.until or today
        since = self.since or until - timedelta(days=DEFAULT_STATS_DAYS - 1)
        if since > until:
            raise InvalidRequestError("since must not be after until")
        if (until - since).days >= MAX_STATS_DAYS:
            raise InvalidRequestError(f"the window may span at most {MAX_STATS_DAYS} days")
        return since, until


class PlatformDayStats(BaseModel):
    """Support figures of one platform on one UTC day (`day` None: the whole window).

    Counted per customer message: `escalated` ones got a ticket, `deflected` ones an agent
    reply and no ticket (answered without a human), `pending` ones neither yet. The first
    response time of a message is its earliest agent or human reply (`in_reply_to` it)
    minus the message's time; messages without a reply have none.
    """

    day: date | None
    platform: str
    messages: int
    escalated: int
    deflected: int
    pending: int
    first_response_median_s: float | None
    first_response_mean_s: float | None
    escalation_rate: float | None
    deflection_rate: float | None


class SupportStats(BaseModel):
    """Per platform and day, and per platform over the window."""

    since: date
    until: date
    days: list[PlatformDayStats]
    totals: list[PlatformDayStats]


@dataclass
class _Tally:
    messages: int = 0
    escalated: int = 0
    deflected: int = 0
    response_s: list[float] = field(default_factory=list)

    def add(self, escalated: bool, deflected: bool, response_s: float | None) -> None:
        self.messages += 1
        self.escalated += escalated
        self.deflected += deflected
        if response_s is not None:
            self.response_s.append(response_s)

    def stats(self, day: date | None, platform: str) -> PlatformDayStats:
        times = self.response_s
        return PlatformDayStats(
            day=day,
            platform=platform,
            messages=self.messages,
            escalated=self.escalated,
            deflected=self.deflected,
            pending=self.messages - self.escalated - self.deflected,
            first_response_median_s=round(statistics.median(times), 3) if times else None,
            first_response_mean_s=round(statistics.fmean(times), 3) if times else None,
            escalation_rate=_ratio(self.escalated, self.messages),
            deflection_rate=_ratio(self.deflected, self.messages),
        )


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, RATIO_DECIMALS) if denominator else None


def _utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def support_stats(
    messages: Sequence[tuple[str, MessageDoc]],
    escalated_message_ids: Collection[str],
    since: date,
    until: date,
) -> SupportStats:
    """The figures of the customer messages sent from `since` to `until` (UTC days).

    `messages` are (conversation key, message) pairs, replies included; a conversation key
    starts with its platform ("tiktok:..."). `escalated_message_ids` are the message ids
    tickets were opened for.
    """
    first_reply: dict[tuple[str, str], datetime] = {}
    for key, message in messages:
        if message.role != "customer" and message.in_reply_to is not None:
            slot = (key, message.in_reply_to)
            if slot not in first_reply or message.at < first_reply[slot]:
                first_reply[slot] = message.at
    by_day: dict[tuple[date, str], _Tally] = {}
    by_platform: dict[str, _Tally] = {}
    for key, message in messages:
        day = _utc_day(message.at)
        if message.role != "customer" or not since <= day <= until:
            continue
        platform = key.partition(":")[0]
        replied_at = first_reply.get((key, message.message_id))
        escalated = message.message_id in escalated_message_ids
        deflected = replied_at is not None and not escalated
        response_s = (replied_at - message.at).total_seconds() if replied_at else None
        for tally in (
            by_day.setdefault((day, platform), _Tally()),
            by_platform.setdefault(platform, _Tally()),
        ):
            tally.add(escalated, deflected, response_s)
    return SupportStats(
        since=since,
        until=until,
        days=[tally.stats(day, platform) for (day, platform), tally in sorted(by_day.items())],
        totals=[tally.stats(None, platform) for platform, tally in sorted(by_platform.items())],
    )


def stats_window(since: date, until: date) -> tuple[datetime, datetime]:
    """The message times to read for the window: from its start to a week after its end, so
    replies sent after the last day still count."""
    return midnight(since), midnight(until + timedelta(days=8))


# --- site chat -------------------------------------------------------------------------

MAX_CHAT_CHARS = 2000
MAX_CHAT_BODY_BYTES = 8 * 1024
CHAT_RATE_WINDOW = timedelta(minutes=1)
CHAT_RATE_LIMIT = 5  # customer messages per conversation per window
CHAT_MAX_MESSAGES = 200  # per conversation; a longer one should start afresh
CHAT_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
ChatId = Annotated[str, StringConstraints(pattern=CHAT_ID_PATTERN)]


class ChatPost(BaseModel):
    """The body the chat page POSTs to /chat/messages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    conversation_id: ChatId
    message_id: ChatId | None = None  # the page's own id, so a retried POST is stored once
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHAT_CHARS)
    ]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None


def require_chat_id(value: str) -> str:
    """A conversation id the chat page may have made up; InvalidRequestError otherwise."""
    if not re.fullmatch(CHAT_ID_PATTERN, value):
        raise InvalidRequestError("conversation id must be 8 to 64 letters, digits, - or _")
    return value


def chat_conversation_key(conversation_id: str) -> str:
    """The key of a site-chat conversation (the generic platform)."""
    return f"generic:{conversation_id}"


def post_chat_message(
    post: ChatPost,
    *,
    conversations: ConversationStore,
    bus: Bus,
    clock: Callable[[], datetime],
    new_id: Callable[[], str],
) -> WebhookOutcome:
    """Store a visitor's message and hand it to the support agent, as the generic webhook does.

    Message ids are scoped by conversation, so one visitor cannot collide with another's.
    """
    thread = conversations.list_messages(chat_conversation_key(post.conversation_id))
    if len(thread) >= CHAT_MAX_MESSAGES:
        raise TooManyRequestsError(
            f"this conversation has {CHAT_MAX_MESSAGES} messages; start a new one", 3600
        )
    recent_from = clock() - CHAT_RATE_WINDOW
    recent = [m for m in thread if m.role == "customer" and m.at >= recent_from]
    if len(recent) >= CHAT_RATE_LIMIT:
        raise TooManyRequestsError(
            f"at most {CHAT_RATE_LIMIT} messages a minute; wait a moment",
            int(CHAT_RATE_WINDOW.total_seconds()),
        )
    user: dict[str, str] = {"id": f"visitor-{post.conversation_id}"}
    if post.name:
        user["name"] = post.name
    payload = {
        "message_id": f"{post.conversation_id}.{post.message_id or new_id()}",
        "conversation_id": post.conversation_id,
        "user": user,
        "text": post.text,
    }
    return ingest_support_webhook(
        "generic", payload, conversations=conversations, bus=bus, clock=clock
    )


class ChatLine(BaseModel):
    """One message as the visitor sees it (no intents, confidences or sources)."""

    role: Literal["customer", "agent", "human"]
    text: str
    at: datetime


class ChatView(BaseModel):
    """GET /chat/conversations/{id}.json: the thread and whether a person has taken over."""

    conversation_id: str
    status: str
    human_took_over: bool
    messages: list[ChatLine]


def chat_view(
    conversation_id: str, conversation: ConversationDoc | None, thread: Sequence[MessageDoc]
) -> ChatView:
    """What the chat page shows: an unknown conversation is an empty, open one."""
    status = conversation.status if conversation else "open"
    return ChatView(
        conversation_id=conversation_id,
        status=status,
        human_took_over=status == "escalated" or any(m.role == "human" for m in thread),
        messages=[ChatLine(role=m.role, text=m.text, at=m.at) for m in thread],
    )
