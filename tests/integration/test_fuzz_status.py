"""Fuzzing the status function (shared/web/openapi/status.yaml) on the official emulators.

The database first holds a few real records (runs in several states with tasks, events and a
pending approval; an escalated conversation with its ticket; a knowledge-base draft), and
generated requests name them half the time, so detail pages and actions reach their real code
paths. Every route that needs a credential is fuzzed once without one (401 only, nothing
stored), and every route once with the act token. Each answer must be documented (status,
content type, body schema) and never a 5xx; after every rejection Firestore holds exactly what
it held before; and the site chat publishes exactly the messages it says it accepted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_store import FirestoreStore
from shared.app.timeline import run_event
from shared.core.agent_settings import bundled_agents
from shared.core.documents import ApprovalDoc, RunDoc, TaskDoc, TicketDoc
from shared.core.models import RunStatus, TaskStatus, utcnow
from shared.core.topology import SUPPORT_MESSAGES_TOPIC
from shared.support.inbound import parse_generic
from tests.conftest import API_TOKEN, Emulators
from tests.helpers.functions_app import function_client
from tests.helpers.fuzz_http import CHECKS, DocumentCounter, Fuzzer, load_schema, operations
from tests.helpers.fuzzing import fuzz_settings, json_documents
from tests.helpers.pubsub import TopicTap
from tests.helpers.status_client import form_value
from tests.helpers.tickets import open_ticket

pytestmark = pytest.mark.integration

EXAMPLES = 25  # per operation, with the act token
EXAMPLES_WITHOUT_CREDENTIALS = 10  # per operation that needs one: every answer is a 401
Draw = Callable[[st.SearchStrategy[Any]], Any]

FAILED_RUN, RUNNING_RUN, WAITING_RUN = "fuzz-failed-run", "fuzz-running-run", "fuzz-winback-run"
APPROVAL_STEP = "approve"
ESCALATED = "generic:fuzz-escalated-1"


@dataclass
class Seeded:
    """Ids of the records the database holds before fuzzing."""

    run_ids: list[str]
    conversation_keys: list[str]
    draft_ids: list[str]


@dataclass
class Status:
    fuzzer: Fuzzer
    schema: Any
    seeded: Seeded
    support: TopicTap


def seed(project: str) -> Seeded:
    """Runs in three states, an escalated and a resolved conversation (hence a KB draft)."""
    store = FirestoreStore(project)
    now = utcnow()
    runs = [
        (FAILED_RUN, "weekly_gtm", RunStatus.FAILED),
        (RUNNING_RUN, "weekly_gtm", RunStatus.RUNNING),
        (WAITING_RUN, "winback", RunStatus.WAITING),
    ]
    for run_id, workflow, status in runs:
        run = RunDoc(
            run_id=run_id,
            workflow=workflow,
            trigger="api",
            task_count=1,
            status=status,
            step="analyse" if workflow == "weekly_gtm" else APPROVAL_STEP,
            created_at=now - timedelta(hours=1),
            failed_step="analyse" if status is RunStatus.FAILED else None,
            failure_reasons=["finance: boom"] if status is RunStatus.FAILED else [],
        )
        task = TaskDoc(
            run_id=run_id,
            task_id="task-finance",
            agent="finance",
            status=TaskStatus.FAILED if status is RunStatus.FAILED else TaskStatus.SUCCEEDED,
            created_at=now - timedelta(hours=1),
        )
        started = run_event(run_id, "run.started", "started", now - timedelta(hours=1))
        assert store.create_run(run, [task], [started])
    assert store.create_approval(
        ApprovalDoc(
            run_id=WAITING_RUN,
            step=APPROVAL_STEP,
            workflow="winback",
            title="Send 2 win-back emails",
            proposal={"customers": ["c-1", "c-2"]},
            requested_at=now - timedelta(minutes=30),
            expires_at=now + timedelta(days=2),
        )
    )
    conversations = FirestoreConversations(project)
    keys = []
    for n in (1, 2):
        [inbound] = parse_generic(
            {
                "message_id": f"fuzz-m{n}",
                "conversation_id": f"fuzz-escalated-{n}",
                "user": {"id": f"visitor-{n}", "name": "Ada"},
                "text": "Can I change my delivery address?",
            }
        )
        record = conversations.record_inbound(inbound, now)
        ticket = TicketDoc(
            ticket_id=record.record_id,
            conversation_key=inbound.conversation_key,
            message_id=record.record_id,
            reason="asks for a person",
            created_at=now,
        )
        open_ticket(conversations, ticket, now)
        keys.append(inbound.conversation_key)
    return Seeded(run_ids=[r for r, _, _ in runs], conversation_keys=keys, draft_ids=[])


@pytest.fixture(scope="module")
def status(emulators: Emulators) -> Iterator[Status]:
    emulators.reset()
    seeded = seed(emulators.project)
    # No cookie jar: each request carries only the cookies it was generated with.
    client = function_client("status", "status_page", "http").application.test_client(
        use_cookies=False
    )
    # One conversation resolved before fuzzing, so that a knowledge-base draft exists.
    resolved = client.post(
        f"/api/conversations/{seeded.conversation_keys[1]}/resolve",
        json={"answer": "Yes, until the parcel ships."},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert resolved.status_code == 200, resolved.get_json()
    seeded.draft_ids.append(resolved.get_json()["kb_draft_id"])
    counter = DocumentCounter(emulators.firestore.host, emulators.project)
    support = TopicTap(emulators.project, SUPPORT_MESSAGES_TOPIC)
    yield Status(
        Fuzzer(client, counter), load_schema("status.yaml", client.application), seeded, support
    )
    support.close()
    counter.close()


def _policy_fields(agent: str) -> list[str]:
    text = resources.files("shared").joinpath("policies", f"{agent}.yaml").read_text()
    return [f"values.{name}" for name in yaml.safe_load(text)["values"]]


AGENTS = list(bundled_agents())
PROMPT_FIELDS = ["system", "prompt", "headline", "offline", "tier", "drafts.system"]
# Values a person types into the settings form: mostly plausible, at times anything.
EDIT_VALUES = st.one_of(
    st.sampled_from(["0.5", "3", "30", "fast", "smart", "Write {{ agent }}'s summary.", "[1, 2]"]),
    st.sampled_from(["{{ figures", "{% for x in y %}", "-1", "1e999", "nan", "", "{}"]),
    st.text(max_size=40),
)


def name_what_exists(seeded: Seeded, fuzzer: Any) -> Callable[[Any, Draw], None]:
    """Half the time, point the generated request at a seeded record or a real agent, give a
    settings edit a real field and the version it edits, and a sign-in the nonce of a form
    loaded just before, so that the handlers get past their first lookup or check."""
    client = fuzzer.client

    def tweak(case: Any, draw: Draw) -> None:
        if not draw(st.booleans()):
            return
        if case.operation.label == "POST /signin" and isinstance(case.body, dict):
            form = client.get("/signin")
            nonce = form_value(form.get_data(as_text=True), "signin_nonce")
            case.cookies = {**(case.cookies or {}), "controlroom_signin": nonce}
            token = draw(st.sampled_from([API_TOKEN, case.body.get("token", "")]))
            case.body = {**case.body, "signin_nonce": nonce, "token": token}
            return
        params = dict(case.path_parameters or {})
        if "run_id" in params:
            params["run_id"] = draw(st.sampled_from(seeded.run_ids))
        if "step" in params:
            params["step"] = APPROVAL_STEP
        if "key" in params:
            params["key"] = draw(st.sampled_from(seeded.conversation_keys))
        if "draft_id" in params:
            params["draft_id"] = draw(st.sampled_from(seeded.draft_ids))
        if "agent" in params:
            params["agent"] = draw(st.sampled_from(AGENTS))
        if params:
            case.path_parameters = params
        kind = params.get("kind")
        if case.operation.path == "/api/agents/{agent}/{kind}" and kind in ("prompts", "policy"):
            fields = PROMPT_FIELDS if kind == "prompts" else _policy_fields(params["agent"])
            agents = client.get("/api/agents", headers=ACT).get_json()["agents"]
            fuzzer.documents = None  # that read was audited: count afresh before the case
            [current] = [a[f"{kind}_version"] for a in agents if a["agent"] == params["agent"]]
            body = {"base_version": draw(st.sampled_from([current, current - 1]))}
            body[draw(st.sampled_from(fields))] = draw(EDIT_VALUES)
            case.body = body

    return tweak


# GET /openapi.yaml documents its YAML body as `type: string`, but a YAML body is validated
# as the document it parses to (an object); the other checks still apply to it.
CHECKS_OF = {"GET /openapi.yaml": [c for c in CHECKS if c is not response_schema_conformance]}


ACT = {"Authorization": f"Bearer {API_TOKEN}"}


def with_the_act_token(method: str, path: str, body: bytes) -> dict[str, str]:
    return ACT


def test_without_a_credential_every_private_route_is_a_401_and_stores_nothing(
    status: Status,
) -> None:
    def expect(case: Any, code: int, body: Any) -> None:
        # A path that matches no route (e.g. an id with a "/") is a 404 before any check.
        unrouted = code == 404 and "no page at" in str((body or {}).get("error"))
        assert code == 401 or unrouted, (case.operation.label, code, body)

    private = [op for op in operations(status.schema) if op.definition.raw["x-scope"] != "public"]
    for operation in private:
        status.fuzzer.run(
            operation,
            EXAMPLES_WITHOUT_CREDENTIALS,
            tweak=name_what_exists(status.seeded, status.fuzzer),
            expect=expect,
        )
    print(f"\nstatus, no credentials: {status.fuzzer.report.summary()}")


def test_with_the_act_token_every_answer_is_documented_and_rejections_store_nothing(
    status: Status,
) -> None:
    accepted = Counter[str]()

    def expect(case: Any, code: int, body: Any) -> None:
        if case.operation.definition.raw["x-scope"] != "public":  # sign-in answers 401 and 403
            assert code not in (401, 403), (case.operation.label, code, body)

    def after(case: Any, code: int, body: Any) -> None:
        if case.operation.path == "/chat/messages" and code == 202:
            accepted["chat"] += body["accepted"]

    for operation in operations(status.schema):
        status.fuzzer.run(
            operation,
            EXAMPLES,
            sign=with_the_act_token,
            tweak=name_what_exists(status.seeded, status.fuzzer),
            expect=expect,
            after=after,
            checks=CHECKS_OF.get(operation.label),
        )

    published = status.support.pull(expected=accepted["chat"], timeout_s=10)
    assert len(published) == accepted["chat"]
    assert status.support.pull(expected=1, timeout_s=0.5) == []
    report = status.fuzzer.report
    print(f"\nstatus, both runs: {report.summary()}; chat messages published {len(published)}")
    print(report.by_operation())


JSON_BODY_PATHS = [
    "/chat/messages",  # public: anyone on the internet can send this one
    f"/api/conversations/{ESCALATED}/resolve",
    f"/api/runs/{WAITING_RUN}/approvals/{APPROVAL_STEP}",
    f"/api/runs/{RUNNING_RUN}/cancel",
    f"/api/runs/{FAILED_RUN}/retry",
    "/api/agents/finance/policy",
    "/signin",
]


@fuzz_settings(60)
@given(path=st.sampled_from(JSON_BODY_PATHS), body=json_documents, token=st.booleans())
def test_any_bytes_as_a_json_body_are_answered_without_a_5xx(
    status: Status, path: str, body: bytes, token: bool
) -> None:
    """JSON nested deeper than Python's recursion limit, or with integers longer than it
    converts, must be a 400 like any other malformed body (the chat takes 8 KiB from anyone)."""
    headers = {"Content-Type": "application/json", **(ACT if token else {})}
    before = status.fuzzer.count_documents()

    response = status.fuzzer.client.post(path, data=body, headers=headers)

    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.get_json()["error"]
        assert status.fuzzer.count_documents() == before
