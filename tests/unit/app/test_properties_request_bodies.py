"""Properties of the status function's request-body parsers: whatever JSON object or form
fields arrive, each parser returns its model, in the shape the code after it relies on, or
raises InvalidRequestError (400), never another exception (a 500)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.app.request_run import StartRunBody
from shared.app.resolve_conversation import ApproveRequest, ResolveRequest, parse_body
from shared.app.run_commands import DecisionBody
from shared.app.status_views import ChatPost
from shared.core.errors import InvalidRequestError
from shared.web.run_actions import _decision_body
from tests.helpers.fuzzing import fuzz_settings, json_values


def fields_of(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object (or form) with some of the parser's own fields and, at times, others."""
    return st.dictionaries(st.sampled_from(names) | st.text(max_size=8), json_values, max_size=5)


@fuzz_settings(400)
@given(
    fields=fields_of(["decision", "comment", "edits", "subject", "exclude"]).map(
        lambda fields: {"decision": "approve", **fields}
    )
    | fields_of(["decision", "comment", "edits", "subject", "exclude"])
)
def test_any_decision_body_parses_into_edits_the_send_step_can_use_or_is_a_400(
    fields: dict[str, Any],
) -> None:
    try:
        body = _decision_body(dict(fields))
    except InvalidRequestError as exc:
        assert str(exc)
        return
    assert isinstance(body, DecisionBody)
    # What the win-back's send step reads from the edits (shared/workflows/winback.py).
    if "subject" in body.edits:
        assert isinstance(body.edits["subject"], str)
    if "exclude" in body.edits:
        excluded = body.edits["exclude"]
        assert isinstance(excluded, list) and all(isinstance(c, str) for c in excluded)


BODY_FIELDS = [
    *("workflow", "params", "idempotency_key"),  # StartRunBody
    *("answer", "resolved_by", "approved_by"),  # ResolveRequest, ApproveRequest
    *("conversation_id", "message_id", "text", "name"),  # ChatPost
]


@fuzz_settings(300)
@given(
    model=st.sampled_from([StartRunBody, ResolveRequest, ApproveRequest, ChatPost]),
    fields=fields_of(BODY_FIELDS),
)
def test_any_body_is_its_model_or_a_400(model: type[BaseModel], fields: dict[str, Any]) -> None:
    try:
        parsed = parse_body(model, fields)
    except InvalidRequestError as exc:
        assert str(exc)
        return
    assert type(parsed).model_validate_json(parsed.model_dump_json()) == parsed


def test_edits_of_the_wrong_type_are_a_400() -> None:
    for fields in (
        {"decision": "approve", "edits": "subject=Hi"},
        {"decision": "approve", "edits": [1]},
        {"decision": "approve", "edits": 5},
        {"decision": "approve", "exclude": 5},
        {"decision": "approve", "edits": {"exclude": [{"id": "c-1"}]}},
        {"decision": "approve", "edits": {"subject": {"text": "Hi"}}},
    ):
        try:
            _decision_body(dict(fields))
        except InvalidRequestError:
            continue
        raise AssertionError(f"{fields} was accepted")
