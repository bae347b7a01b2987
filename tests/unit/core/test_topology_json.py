"""The topology JSON that Terraform reads must be exactly what the code declares."""

from __future__ import annotations

from pathlib import Path

from shared.core.topology import TOPOLOGY

TOPOLOGY_JSON = Path(__file__).resolve().parents[3] / "infra" / "terraform" / "topology.json"


def test_committed_topology_json_matches_the_code() -> None:
    committed = TOPOLOGY_JSON.read_text()

    assert committed == TOPOLOGY.to_json(), (
        "run `make topology` and commit infra/terraform/topology.json"
    )
