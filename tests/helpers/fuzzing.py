"""Hypothesis settings and strategies shared by the property tests and the HTTP fuzzing.

Every property test runs a fixed, derandomized number of examples (the same inputs on every
run, so a failure reproduces and `make test` stays fast) and writes nothing into the checkout.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis caches what it learns (constants of the code under test) under .hypothesis/;
# keep it out of the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "controlroom-hypothesis")

PAYLOADS = Path(__file__).resolve().parents[1] / "unit" / "payloads"
WEBHOOK_PAYLOADS = PAYLOADS / "webhooks"


def fuzz_settings(max_examples: int) -> settings:
    """Deterministic settings: `max_examples` inputs, no deadline, no database."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def webhook_fixture(name: str) -> dict[str, Any]:
    """A vendor's documented webhook body from tests/unit/payloads/webhooks."""
    payload: dict[str, Any] = json.loads((WEBHOOK_PAYLOADS / f"{name}.json").read_text())
    return payload


# Values at the edges of what the parsers accept: the limits on text (4000) and ids (256),
# timestamps at the end of the calendar, integers too long to turn into text, blank and
# control characters, a lone surrogate (valid in JSON, not in UTF-8).
EDGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**63,
    253_402_300_799,
    253_402_300_799_000,
    253_402_300_800_000,
    "",
    " ",
    "\x00",
    "\ud800",
    "evt_",
    "text",
    "COMMENT",
    "im_receive_msg",
    "zen:event-type:ticket.comment_added",
    "customer.subscription.deleted",
    "customer.subscription.updated",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59+00:00",
    "2026-02-30T00:00:00Z",
    "2026-11-16T08:00:00",
    [],
    {},
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(EDGE_VALUES),
    # Text at and just over the limits on ids (256) and message text (4000).
    st.sampled_from([256, 257, 4000, 4001]).map(lambda length: "x" * length),
)


def _json_of(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=12), children, max_size=4),
        ),
        max_leaves=20,
    )


json_values = _json_of(json_scalars)
"""Any value `json.loads` can return."""


def json_bytes(value: Any) -> bytes:
    """`value` as JSON, integers of any length included (as a sender may write them)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return json.dumps(value).encode()
    finally:
        sys.set_int_max_str_digits(limit)


json_documents = st.one_of(
    # Integers longer than Python turns into text by default (sys.get_int_max_str_digits):
    # valid JSON that json.loads refuses with a ValueError that is not a JSONDecodeError.
    _json_of(json_scalars | st.builds(pow, st.just(10), st.just(5000))).map(json_bytes),
    # Nesting deeper than the interpreter's recursion limit: json.loads raises RecursionError.
    st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.binary(max_size=200),
)
"""Bytes a sender may POST as JSON: valid JSON of any shape, some of it more than Python's
json module will load, and bytes that are not JSON or not UTF-8."""


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


def _delete(value: Any, path: tuple[Any, ...]) -> Any:
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return value


@st.composite
def mutated(draw: st.DrawFn, base: Any, max_changes: int = 3) -> Any:
    """`base` with one to `max_changes` positions replaced by any JSON value, or deleted:
    near-valid payloads that get past the first checks and probe the deeper ones."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_changes))):
        path = draw(st.sampled_from(_paths(value)))
        if path and draw(st.booleans()) and draw(st.booleans()):
            value = _delete(value, path)
        else:
            value = _replace(value, path, draw(json_values))
    return value
