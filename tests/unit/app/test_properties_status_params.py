"""Properties of the status page's query parameters (shared/app/status_views.py, KpiParams):
any query string parses into parameters whose windows and page bounds can be computed, or is
refused with InvalidRequestError (400) naming the parameter; never an OverflowError or any
other exception (a 500). Cursors round-trip, and so do the filters written into page links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st

from shared.app.kpis import KpiParams
from shared.app.status_views import (
    MAX_STATS_DAYS,
    RunCursor,
    RunsParams,
    StatsParams,
    midnight,
    require_chat_id,
    stats_window,
)
from shared.core.errors import InvalidRequestError
from shared.core.models import RunStatus
from tests.helpers.fuzzing import fuzz_settings

# What werkzeug hands over as query values: any text decoded from UTF-8 (no lone surrogates).
query_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
days = st.dates().map(date.isoformat) | st.sampled_from(
    ["0001-01-01", "0001-01-05", "9999-12-31", "9999-12-25", "2026-02-30", "2026-11-16T08:00"]
)
cursors = st.one_of(
    query_text,
    st.builds(
        lambda at, run_id: RunCursor(at, run_id).encode(),
        st.datetimes(timezones=st.just(UTC)),
        st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20),
    ),
)
numbers = st.one_of(
    st.integers(-5, 200).map(str), st.floats().map(str), st.sampled_from(["", "1e2", "٣", "²"])
)
VALUES = {
    "workflow": st.sampled_from(["weekly_gtm", "winback", "Weekly", "a" * 65]) | query_text,
    "status": st.sampled_from([s.value for s in RunStatus]) | query_text,
    "since": days | query_text,
    "until": days | query_text,
    "limit": numbers,
    "cursor": cursors,
    "tab": st.sampled_from(["business", "technical", "x"]),
    "minutes_per_reply": numbers,
    "minutes_per_email": numbers,
    "minutes_per_report": numbers,
}


@st.composite
def query_args(draw: st.DrawFn, names: list[str]) -> dict[str, str]:
    """A query string's arguments: some of the page's own parameters, at times an unknown one."""
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    args = {name: draw(VALUES[name]) for name in chosen}
    if draw(st.integers(0, 9)) == 0:
        args[draw(query_text)] = draw(query_text)
    return args


todays = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))  # the clock's day


P = TypeVar("P", RunsParams, StatsParams, KpiParams)


def parsed_or_400(model: type[P], args: dict[str, str]) -> P | None:
    try:
        return model.parse(args)
    except InvalidRequestError as exc:
        assert str(exc)
        return None


@fuzz_settings(300)
@given(args=query_args(["workflow", "status", "since", "until", "limit", "cursor"]))
def test_runs_parameters_give_a_page_to_read_or_a_400(args: dict[str, str]) -> None:
    params = parsed_or_400(RunsParams, args)
    if params is None:
        return
    start, end = params.created_from, params.created_before
    if start is not None and end is not None:
        assert start < end
    after = params.after
    # The link to the next page carries the same filters.
    again = RunsParams.parse(params.query_string(after))
    assert again.model_dump(exclude={"cursor"}) == params.model_dump(exclude={"cursor"})
    assert again.after == after


@fuzz_settings(200)
@given(args=query_args(["since", "until"]), today=todays)
def test_stats_parameters_give_a_window_to_read_or_a_400(args: dict[str, str], today: date) -> None:
    params = parsed_or_400(StatsParams, args)
    if params is None:
        return
    try:
        since, until = params.window(today)
    except InvalidRequestError:
        return
    assert since <= until and (until - since).days < MAX_STATS_DAYS
    start, end = stats_window(since, until)
    assert start < end


@fuzz_settings(200)
@given(
    args=query_args(
        ["since", "until", "tab", "minutes_per_reply", "minutes_per_email", "minutes_per_report"]
    ),
    today=todays,
)
def test_kpi_parameters_give_a_window_to_read_or_a_400(args: dict[str, str], today: date) -> None:
    params = parsed_or_400(KpiParams, args)
    if params is None:
        return
    try:
        since, until = params.window(today)
    except InvalidRequestError:
        return
    assert since <= until and (until - since).days < MAX_STATS_DAYS
    assert midnight(since) < midnight(until + timedelta(days=1))  # what gather_kpis reads


@fuzz_settings(200)
@given(token=query_text | st.binary(max_size=40).map(lambda b: b.hex()))
def test_any_cursor_decodes_or_is_a_400(token: str) -> None:
    try:
        cursor = RunCursor.decode(token)
    except InvalidRequestError:
        return
    assert cursor.created_at.tzinfo is not None and cursor.run_id


@fuzz_settings(200)
@given(
    at=st.datetimes(timezones=st.timezones() | st.just(UTC)),
    run_id=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
)
def test_a_cursor_decodes_to_what_was_encoded(at: datetime, run_id: str) -> None:
    decoded = RunCursor.decode(RunCursor(at, run_id).encode())

    # Compared as instants: Python never calls a time in a zone's repeated hour (fold) equal
    # to one with a fixed offset.
    assert (decoded.created_at.astimezone(UTC), decoded.run_id) == (at.astimezone(UTC), run_id)


@fuzz_settings(100)
@given(value=query_text)
def test_a_chat_id_is_valid_or_a_400(value: str) -> None:
    try:
        assert require_chat_id(value) == value
    except InvalidRequestError:
        return
    assert 8 <= len(value) <= 64 and value.isascii()


def test_the_calendars_ends_are_a_400_not_a_500() -> None:
    """The days at the ends of datetime's range used to overflow when a window was computed."""
    today = date(2026, 11, 16)
    for day in ("0001-01-01", "9999-12-31"):
        runs = parsed_or_400(RunsParams, {"until": day})
        assert runs is None or runs.created_before is not None
        stats = parsed_or_400(StatsParams, {"until": day})
        assert stats is None or stats_window(*stats.window(today))
        kpis = parsed_or_400(KpiParams, {"until": day})
        assert kpis is None or kpis.window(today)
