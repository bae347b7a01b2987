"""The deployed Firestore security rules, enforced by the emulator: every client request is
denied, while the admin path the functions' service accounts stand for still works."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulators.gcloud import RunningEmulator, start_firestore

pytestmark = pytest.mark.integration

RULES = Path(__file__).resolve().parents[2] / "infra" / "terraform" / "firestore.rules"
PROJECT = "controlroom-rules-test"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    emulator = start_firestore(PROJECT, tmp_path_factory.mktemp("rules"), rules=RULES)
    yield emulator
    emulator.stop()


def _firebase_user_token(uid: str) -> str:
    """A signed-in Firebase user's ID token as the emulators accept it (unsigned, alg none)."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "firebase": {"sign_in_provider": "password", "identities": {}},
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _documents(emulator: RunningEmulator) -> str:
    return f"http://{emulator.host}/v1/projects/{PROJECT}/databases/(default)/documents"


@pytest.mark.parametrize("collection", ["runs", "conversations", "profiles", "audit"])
def test_a_client_can_neither_read_nor_write_any_collection(
    guarded: RunningEmulator, collection: str
) -> None:
    base = _documents(guarded)
    admin = {"Authorization": "Bearer owner"}
    seeded = httpx.post(
        f"{base}/{collection}?documentId=seeded",
        json={"fields": {"secret": {"stringValue": "kept"}}},
        headers=admin,
    )
    signed_in_user = {"Authorization": f"Bearer {_firebase_user_token('alice')}"}

    reads = [httpx.get(f"{base}/{collection}/seeded", headers=h) for h in ({}, signed_in_user)]
    write = httpx.post(
        f"{base}/{collection}?documentId=planted", json={"fields": {"x": {"integerValue": "1"}}}
    )
    listing = httpx.get(f"{base}/{collection}")

    assert seeded.status_code == 200
    assert [r.status_code for r in reads] == [403, 403]
    assert (write.status_code, listing.status_code) == (403, 403)
    assert "PERMISSION_DENIED" in write.text
    kept = httpx.get(f"{base}/{collection}/seeded", headers=admin).json()
    assert kept["fields"]["secret"]["stringValue"] == "kept"
    assert httpx.get(f"{base}/{collection}/planted", headers=admin).status_code == 404
