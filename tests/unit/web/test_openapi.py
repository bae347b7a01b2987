"""The OpenAPI files: valid 3.1, every status route documented with its scope, nothing
documented that does not exist, and the schemas in step with the pydantic models."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from pydantic import BaseModel

from shared.app.kpis import Kpis
from shared.app.request_run import StartRunBody
from shared.app.resolve_conversation import ApproveRequest, ResolveRequest
from shared.app.status_views import ChatPost, ChatView, SupportStats
from shared.core.agent_settings import Policy, PromptSet
from shared.core.documents import (
    AuditEntry,
    ConversationDoc,
    KbDraftDoc,
    MessageDoc,
    RunDoc,
    RunEvent,
    SettingsVersion,
    TaskDoc,
    TicketDoc,
)
from shared.web.router import PUBLIC
from shared.web.status import ROUTES
from shared.web.webhooks import PLATFORMS
from shared.workflows.registry import WORKFLOWS, get_workflow
from tests.helpers.functions_app import function_client

OPENAPI = Path(__file__).resolve().parents[3] / "shared" / "web" / "openapi"
METHODS = ("get", "post", "put", "patch", "delete")


@cache
def spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((OPENAPI / f"{name}.yaml").read_text())
    return loaded


@pytest.mark.parametrize("name", ["status", "webhooks"])
def test_the_file_is_valid_openapi_3_1(name: str) -> None:
    document = spec(name)

    validate(document)

    assert document["openapi"].startswith("3.1")


def _documented(path: str, method: str) -> dict[str, Any] | None:
    paths = spec("status")["paths"]
    for candidate in (path, "/api" + path):
        operation = paths.get(candidate, {}).get(method.lower())
        if operation is not None:
            return dict(operation)
    return None


def test_every_registered_route_is_documented_with_the_scope_it_needs() -> None:
    missing, wrong_scope = [], []
    for route in ROUTES:
        for path in route.paths:
            operation = _documented(path, route.method)
            if operation is None:
                missing.append(f"{route.method} {path}")
            elif operation.get("x-scope") != route.scope:
                wrong_scope.append(f"{route.method} {path}: {operation.get('x-scope')}")

    assert missing == [], "add these to shared/web/openapi/status.yaml"
    assert wrong_scope == [], "x-scope differs from the route's scope"


def test_every_documented_operation_exists() -> None:
    served = {(route.method, path) for route in ROUTES for path in route.paths}
    stale = [
        f"{method.upper()} {path}"
        for path, item in spec("status")["paths"].items()
        for method in item
        if method in METHODS
        and (method.upper(), path.removeprefix("/api") or "/") not in served
        and (method.upper(), path) not in served
    ]

    assert stale == []


def test_public_operations_need_no_credential_and_the_others_do() -> None:
    for route in ROUTES:
        for path in route.paths:
            operation = _documented(path, route.method)
            assert operation is not None
            public = operation["security"] == [{}]

            assert public == (route.scope == PUBLIC), f"{route.method} {path}"


MODELS: list[type[BaseModel]] = [
    RunDoc,
    TaskDoc,
    RunEvent,
    ConversationDoc,
    MessageDoc,
    TicketDoc,
    KbDraftDoc,
    SupportStats,
    ChatView,
    ChatPost,
    Kpis,
    AuditEntry,
    SettingsVersion,
    PromptSet,
    Policy,
    ResolveRequest,
    ApproveRequest,
]
LEFT_OUT = {"TaskDoc": {"lease_owner"}}  # never served


def _properties(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    return set(schema.get("properties", {})), set(schema.get("required", []))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_component_schemas_match_the_models(model: type[BaseModel]) -> None:
    expected = model.model_json_schema(
        mode="validation" if model.__name__.endswith(("Request", "Post")) else "serialization",
        ref_template="#/components/schemas/{model}",
    )
    documented = spec("status")["components"]["schemas"][model.__name__]
    names, required = _properties(expected)
    names -= LEFT_OUT.get(model.__name__, set())

    assert _properties(documented) == (names, required - LEFT_OUT.get(model.__name__, set()))
    # Nested models too (e.g. Kpis' BusinessKpis), each under its own name.
    for name, nested in expected.get("$defs", {}).items():
        if "properties" in nested:
            assert _properties(spec("status")["components"]["schemas"][name]) == _properties(
                nested
            ), name


def test_the_webhooks_file_covers_every_platform_and_the_run_body() -> None:
    document = spec("webhooks")
    body = document["components"]["schemas"]["StartRunBody"]

    assert {f"/webhooks/{p}" for p in PLATFORMS} <= set(document["paths"])
    assert {"post"} <= set(document["paths"]["/runs"])
    assert "get" in document["paths"]["/webhooks/linkedin"]
    assert _properties(body) == _properties(StartRunBody.model_json_schema())


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_the_webhooks_file_documents_each_workflows_params_as_its_model(workflow: str) -> None:
    model = get_workflow(workflow).params_model
    schemas = spec("webhooks")["components"]["schemas"]

    assert schemas[model.__name__] == model.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    assert {"$ref": f"#/components/schemas/{model.__name__}"} in schemas["StartRunBody"][
        "properties"
    ]["params"]["anyOf"]


def test_the_status_function_serves_its_description() -> None:
    client = function_client("status", "status_page", "http")

    response = client.get("/openapi.yaml")

    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert yaml.safe_load(response.get_data(as_text=True)) == spec("status")
