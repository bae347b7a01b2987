"""Driving the real HTTP functions with requests schemathesis generates from their OpenAPI files.

`Fuzzer.run(operation, ...)` draws requests for one documented operation (positive and negative
generation, a fixed number of examples, the same ones on every run), sends each through
functions-framework's own app (with signatures or a bearer token added when asked), checks the
answer against the OpenAPI file with schemathesis's checks, and after every rejection checks
that Firestore holds exactly the documents it held before the request.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import flask
import httpx
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers.fuzzing import fuzz_settings

REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "shared" / "web" / "openapi"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Adds headers to a request from its method, path and exact body (a signature, a token).
Signer = Callable[[str, str, bytes], dict[str, str]]
# Changes a generated case before it is sent, drawing what it needs (e.g. a documented vendor
# payload with a few fields mutated, so the parsers see near-valid bodies too).
Tweak = Callable[[Any, Callable[[st.SearchStrategy[Any]], Any]], None]
# Called with the case, the status and the JSON body of each answer.
Expectation = Callable[[Any, int, Any], None]


def load_schema(name: str, app: flask.Flask) -> Any:
    """An OpenAPI file of shared/web/openapi, sending its requests to `app` in process."""
    schema = schemathesis.openapi.from_path(str(OPENAPI / name))
    schema.app = app
    return schema


def operations(schema: Any) -> list[Any]:
    """Every documented operation."""
    return [result.ok() for result in schema.get_all_operations()]


class DocumentCounter:
    """Counts every document in the emulator's database, in one aggregation query over all
    collections (the emulator's REST API, as the project owner)."""

    def __init__(self, firestore_host: str, project: str) -> None:
        self.url = (
            f"http://{firestore_host}/v1/projects/{project}/databases/(default)/documents"
            ":runAggregationQuery"
        )
        self.http = httpx.Client(headers={"Authorization": "Bearer owner"}, timeout=10)

    def __call__(self) -> int:
        query = {
            "structuredAggregationQuery": {
                "structuredQuery": {"from": [{"allDescendants": True}]},
                "aggregations": [{"alias": "n", "count": {}}],
            }
        }
        response = self.http.post(self.url, json=query)
        response.raise_for_status()
        [result] = [part for part in response.json() if "result" in part]
        return int(result["result"]["aggregateFields"]["n"]["integerValue"])

    def close(self) -> None:
        self.http.close()


@dataclass
class FuzzReport:
    """What one fuzzing run sent and got back."""

    examples: Counter[str] = field(default_factory=Counter)  # by operation label
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.examples.values())

    def by_operation(self) -> str:
        """Each operation's requests by status, one line each."""
        lines = []
        for label in sorted(self.examples):
            statuses = {
                code: n for (name, code), n in sorted(self.statuses.items()) if name == label
            }
            lines.append(f"  {label}: {self.examples[label]} requests, {statuses}")
        return "\n".join(lines)

    def summary(self) -> str:
        by_status = Counter(status for (_, status) in self.statuses.elements())
        return (
            f"{self.total} requests over {len(self.examples)} operations in {self.seconds:.1f} s; "
            f"statuses {dict(sorted(by_status.items()))}"
        )


@dataclass
class Fuzzer:
    """Sends generated requests to one function and checks what comes back. The client
    should keep no cookies, so that each request carries only what it was generated with."""

    client: flask.testing.FlaskClient
    count_documents: Callable[[], int]
    report: FuzzReport = field(default_factory=FuzzReport)
    # Documents after the last request: nothing else writes while the fuzzer runs.
    documents: int | None = None

    def run(
        self,
        operation: Any,
        examples: int,
        *,
        sign: Signer | None = None,
        tweak: Tweak | None = None,
        expect: Expectation | None = None,
        after: Expectation | None = None,
        checks: list[Any] | None = None,
    ) -> None:
        """Send `examples` generated requests for `operation` (positive and negative data)."""
        self.documents = None  # others may have written since the last run
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        started = time.monotonic()

        @fuzz_settings(examples)
        @given(case=strategy, data=st.data())
        def send_one(case: Any, data: st.DataObject) -> None:
            if tweak is not None:
                tweak(case, data.draw)
            self.send(case, sign=sign, expect=expect, after=after, checks=checks)

        send_one()
        self.report.seconds += time.monotonic() - started

    def send(
        self,
        case: Any,
        *,
        sign: Signer | None = None,
        expect: Expectation | None = None,
        after: Expectation | None = None,
        checks: list[Any] | None = None,
    ) -> None:
        """Send one case, check the answer against the OpenAPI file, and check that a
        rejection stored nothing."""
        kwargs = case.as_transport_kwargs()
        kwargs["path"] = _route_newlines_away(kwargs["path"])
        headers: dict[str, str] = dict(kwargs.pop("headers"))
        body = _body_bytes(kwargs)
        if case.cookies:
            headers["Cookie"] = "; ".join(
                f"{name}={quote(str(value), safe=_COOKIE_SAFE)}"
                for name, value in case.cookies.items()
            )
        if sign is not None:
            headers.update(sign(kwargs["method"], kwargs["path"], body))
        before = self.documents if self.documents is not None else self.count_documents()
        response = self.client.open(
            kwargs["path"],
            method=kwargs["method"],
            headers=headers,
            query_string=kwargs.get("query_string"),
            data=body,
        )
        label = case.operation.label
        self.report.examples[label] += 1
        self.report.statuses[(label, response.status_code)] += 1
        self.documents = None  # unknown until counted, should a check below fail
        case.validate_response(response, checks=checks or CHECKS)
        payload = _json_or_none(response)
        if expect is not None:
            expect(case, response.status_code, payload)
        now = self.count_documents()
        if response.status_code >= 400:
            assert now == before, (
                f"{label} answered {response.status_code} {payload} but the database went "
                f"from {before} to {now} documents"
            )
        self.documents = now
        if after is not None:
            after(case, response.status_code, payload)


# Cookie values as they go on the wire: printable ASCII but the separators, the rest escaped.
_COOKIE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\%')


def _route_newlines_away(path: str) -> str:
    """functions-framework serves a function at Flask's `/<path:path>`, whose converter never
    matches a newline: such a request gets Flask's HTML 404 without reaching the function (in
    the cloud too), so it would test nothing of ours. A space takes the newline's place."""
    return re.sub("%0[aA]", "%20", path.replace("\n", " "))


def _body_bytes(kwargs: dict[str, Any]) -> bytes:
    """The exact bytes to send (so a signature can cover them), from the transport's kwargs."""
    if "json" in kwargs:
        return json.dumps(kwargs.pop("json")).encode()
    data = kwargs.pop("data", None)
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, dict):
        return urlencode(data, doseq=True).encode()
    raise AssertionError(f"unexpected body {type(data)}")


def _json_or_none(response: Any) -> Any:
    if response.mimetype != "application/json":
        return None
    return response.get_json(silent=True)
