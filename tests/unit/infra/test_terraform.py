"""The Terraform in infra/terraform: formatted, typed, and derived from topology.json.

The google provider cannot be downloaded here, so `terraform validate` is out of reach;
these checks parse the HCL (python-hcl2) and look at what can be read without a plan.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from shared.adapters.firestore_indexes import COMPOSITE_INDEXES
from shared.wiring.settings import Settings

TERRAFORM_DIR = Path(__file__).resolve().parents[3] / "infra" / "terraform"
TERRAFORM_BIN = Path("/usr/local/bin/terraform")

# Every secret setting (a SecretStr, alone or in a mapping) and the API token.
SECRET_NAMES = (
    "CONTROLROOM_API_TOKEN",
    *(
        f"CONTROLROOM_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    ),
)

# Resource type -> the local map it must iterate, for everything declared in the topology.
TOPOLOGY_RESOURCES = {
    "google_pubsub_topic": "local.topics",
    "google_pubsub_subscription": "local.subscriptions",
    "google_cloudfunctions2_function": "local.functions",
    "google_cloud_scheduler_job": "local.schedules",
    "google_service_account": "local.functions",
}


def _unquote(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@cache
def _parsed() -> dict[str, dict[str, Any]]:
    """Every .tf file, parsed, by file name (quotes of labels and strings stripped)."""
    files = sorted(TERRAFORM_DIR.glob("*.tf"))
    assert files, f"no .tf files in {TERRAFORM_DIR}"
    parsed = {}
    for path in files:
        with path.open() as handle:
            parsed[path.name] = _unquote(hcl2.load(handle))
    return parsed


def _blocks(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(file name, block) of every top-level block of one kind, e.g. 'variable'."""
    return [(name, block) for name, doc in _parsed().items() for block in doc.get(kind, [])]


def _resources(resource_type: str) -> dict[str, dict[str, Any]]:
    """Resource name -> body of every resource of one type."""
    found: dict[str, dict[str, Any]] = {}
    for _, block in _blocks("resource"):
        for rtype, by_name in block.items():
            if rtype == resource_type:
                found.update(by_name)
    return found


def _locals() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for _, block in _blocks("locals"):
        merged.update(block)
    return merged


def _topology() -> dict[str, Any]:
    return json.loads((TERRAFORM_DIR / "topology.json").read_text())


def test_terraform_fmt_check_passes() -> None:
    if not TERRAFORM_BIN.exists():
        pytest.fail(f"{TERRAFORM_BIN} is missing: cannot run `terraform fmt -check`")
    result = subprocess.run(
        [str(TERRAFORM_BIN), "fmt", "-check", "-recursive", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, f"unformatted files:\n{result.stdout}"


def test_every_variable_is_typed_and_described() -> None:
    variables = _blocks("variable")
    assert variables
    for file_name, block in variables:
        assert file_name == "variables.tf", f"variables belong in variables.tf, not {file_name}"
        for name, body in block.items():
            assert body.get("type"), f"variable {name} has no type"
            assert str(body.get("description", "")).strip(), f"variable {name} has no description"


def test_outputs_are_described() -> None:
    for _, block in _blocks("output"):
        for name, body in block.items():
            assert str(body.get("description", "")).strip(), f"output {name} has no description"


def test_providers_are_pinned_pessimistically() -> None:
    (terraform,) = [block for _, block in _blocks("terraform") if "required_providers" in block]
    assert re.fullmatch(r">=\s*1\.(6|[7-9]|\d\d)(\.\d+)?", terraform["required_version"])
    providers: dict[str, Any] = {}
    for entry in terraform["required_providers"]:
        providers.update(entry)
    assert set(providers) >= {"google", "google-beta"}
    for name, spec in providers.items():
        assert spec["version"].startswith("~>"), f"provider {name} is not pinned with ~>"
        assert spec["version"] == "~> 6.0", f"provider {name}: {spec['version']}"


def test_locals_are_derived_from_topology_json() -> None:
    local_values = _locals()
    assert local_values["topology"] == '${jsondecode(file("${path.module}/topology.json"))}'
    for name, collection in [
        ("topics", "topics"),
        ("subscriptions", "subscriptions"),
        ("functions", "functions"),
        ("schedules", "schedules"),
    ]:
        expression = local_values[name]
        assert f"local.topology.{collection}" in expression, f"local.{name}: {expression}"
        assert "=> " in expression and ".name" in expression, f"local.{name} is not keyed by name"


def test_topology_resources_iterate_the_topology_maps() -> None:
    topology = _topology()
    for resource_type, local_map in TOPOLOGY_RESOURCES.items():
        resources = _resources(resource_type)
        assert resources, f"no {resource_type}"
        iterated = [body for body in resources.values() if local_map in str(body.get("for_each"))]
        assert iterated, f"no {resource_type} has for_each = {local_map}"
    # Nothing is hard-coded per topology item: no resource body names a function, topic,
    # subscription or schedule literally (outputs may, to pick one URL out).
    names = {
        item["name"]
        for kind in ("functions", "topics", "subscriptions", "schedules")
        for item in topology[kind]
    }
    for _, block in _blocks("resource"):
        for resource_type, by_name in block.items():
            for resource_name, body in by_name.items():
                literal = re.findall(r'"([a-z][a-z0-9-]+)"', json.dumps(body).replace('\\"', '"'))
                hard_coded = names.intersection(literal) - {"webhooks", "status"}
                assert not hard_coded, f"{resource_type}.{resource_name} names {hard_coded}"
                single = resource_type in TOPOLOGY_RESOURCES and "for_each" not in body
                assert not single or resource_name in {"pubsub_push", "build"}, (
                    f"{resource_type}.{resource_name} is not declared over a topology map"
                )


def test_push_subscriptions_feed_http_functions_with_oidc() -> None:
    (subscription,) = _resources("google_pubsub_subscription").values()
    text = json.dumps(subscription)
    for needle in (
        "ack_deadline_s",
        "retry.minimum_backoff_s",
        "max_delivery_attempts",
        "each.value.filter",
        "retain_days",
        "oidc_token",
        "google_service_account.pubsub_push.email",
    ):
        assert needle in text, f"subscription does not use {needle}"
    (function,) = _resources("google_cloudfunctions2_function").values()
    assert "event_trigger" not in function, "Pub/Sub functions are fed by our own subscriptions"
    invokers = _resources("google_cloud_run_v2_service_iam_member")
    assert invokers["push_invoker"]["for_each"] == "${local.pubsub_functions}"
    assert "local.public_functions" in invokers["public_invoker"]["for_each"]
    public = _locals()["public_functions"]
    assert "var.webhooks_public_access" in public and "var.status_public_access" in public


def test_publisher_bindings_come_from_publishes_to() -> None:
    bindings = _resources("google_pubsub_topic_iam_member")["function_publisher"]
    assert bindings["for_each"] == "${local.function_publisher_bindings}"
    assert bindings["role"] == "roles/pubsub.publisher"
    assert "publishes_to" in _locals()["function_publisher_bindings"]
    assert "roles/pubsub.publisher" not in json.dumps(_resources("google_project_iam_member"))


def test_one_service_account_per_function() -> None:
    account = _resources("google_service_account")["function"]
    assert account["for_each"] == "${local.functions}"
    (function,) = _resources("google_cloudfunctions2_function").values()
    service = function["service_config"][0]
    assert service["service_account_email"] == (
        "${google_service_account.function[each.key].email}"
    )
    longest = max(len(f"cr-{f['name']}") for f in _topology()["functions"])
    assert longest <= 30, "service account ids are at most 30 characters"


def test_every_secret_has_a_secret_manager_secret() -> None:
    secrets = _resources("google_secret_manager_secret")
    assert secrets, "no google_secret_manager_secret"
    (secret,) = secrets.values()
    assert secret["for_each"] == "${local.secret_names}"
    declared = set(re.findall(r"CONTROLROOM_[A-Z_]+", _locals()["secret_names"]))
    assert set(SECRET_NAMES) <= declared
    assert not _resources("google_secret_manager_secret_version"), "no secret values in state"


def test_composite_indexes_exist() -> None:
    indexes = _locals()["firestore_composite_indexes"]
    declared = {
        (
            spec["collection"],
            spec["query_scope"],
            tuple((f["field_path"], f["order"]) for f in spec["fields"]),
        )
        for spec in indexes.values()
    }
    for index in COMPOSITE_INDEXES:
        wanted = (index.collection, index.scope, index.fields)
        assert wanted in declared, f"no index for {index.query}: {wanted}"
    assert _resources("google_firestore_index")["composite"]["for_each"] == (
        "${local.firestore_composite_indexes}"
    )


def test_messages_collection_group_index_and_llm_cache_ttl() -> None:
    fields = _resources("google_firestore_field")
    by_target = {(body["collection"], body["field"]): body for body in fields.values()}
    messages_at = by_target[("messages", "at")]
    indexes = messages_at["index_config"][0]["indexes"]
    assert {"order": "ASCENDING", "query_scope": "COLLECTION_GROUP"} in indexes
    assert "ttl_config" in by_target[("llm_cache", "expires_at")]
    vector = _resources("google_firestore_index")["kb_chunks_embedding"]
    assert vector["collection"] == "kb_chunks"
    assert "vector_config" in vector["fields"][0]


def test_schedules_publish_their_payload() -> None:
    (job,) = _resources("google_cloud_scheduler_job").values()
    target = job["pubsub_target"][0]
    assert target["data"] == "${base64encode(jsonencode(each.value.payload))}"
    assert target["attributes"] == "${each.value.attributes}"
    assert job["schedule"] == "${each.value.cron}" and job["time_zone"] == "${each.value.time_zone}"
    assert job["retry_config"]


def test_the_firestore_rules_file_is_released_for_the_database() -> None:
    [ruleset] = _resources("google_firebaserules_ruleset").values()
    [release] = _resources("google_firebaserules_release").values()

    [source] = ruleset["source"]
    [files] = source["files"]
    assert files["name"] == "firestore.rules"
    assert "firestore.rules" in files["content"]
    assert (TERRAFORM_DIR / "firestore.rules").exists()
    assert release["name"] == "cloud.firestore"
    assert "google_firebaserules_ruleset.firestore_deny_all.name" in release["ruleset_name"]
