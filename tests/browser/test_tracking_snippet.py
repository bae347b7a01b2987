"""The browser snippet (/v1/controlroom.js) on a host page of another origin, in Chromium,
against the real webhooks and profiles functions: CORS, batching, flush on leaving the page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from emulators.cloud import LocalCloud
from shared.tracking.firestore import FirestoreProfiles
from tests.conftest import Emulators
from tests.e2e.conftest import running_cloud
from tests.helpers.fakes.recording_server import RecordedRequest, RecordingServer, Reply
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.browser

KEY = "browser-tracking-key-0123456789"
USER = "web-user-1"


def host_page(snippet_url: Callable[[], str]) -> Callable[[RecordedRequest], Reply]:
    """The business's own web application: a page on its own origin that loads the snippet."""

    def answer(request: RecordedRequest) -> Reply:
        page = (
            "<!doctype html><html><head><title>Host app</title>"
            f'<script src="{snippet_url()}"></script></head><body><h1>Pricing</h1></body></html>'
        )
        return Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})

    return answer


@pytest.fixture(scope="module")
def host_and_cloud(
    emulators: Emulators, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RecordingServer, LocalCloud]]:
    webhooks: list[str] = []
    with RecordingServer(host_page(lambda: f"{webhooks[0]}/v1/controlroom.js")) as host:
        env = {
            "CONTROLROOM_TRACKING_KEYS": json.dumps({"web": {"key": KEY, "tier": "pro"}}),
            "CONTROLROOM_TRACKING_ALLOWED_ORIGINS": json.dumps([host.origin]),
        }
        for cloud in running_cloud(emulators, tmp_path_factory, function_env={"webhooks": env}):
            webhooks.append(cloud.functions["webhooks"].url)
            yield host, cloud


def _profile(emulators: Emulators, user_id: str) -> dict[str, Any]:
    snap = FirestoreProfiles(emulators.project).client.collection("profiles").document(user_id)
    return snap.get().to_dict() or {}


def test_the_snippet_tracks_identifies_and_reads_recommendations_from_another_origin(
    host_and_cloud: tuple[RecordingServer, LocalCloud], emulators: Emulators, page: Page
) -> None:
    host, _ = host_and_cloud
    emulators.reset()
    page.goto(host.origin)
    page.wait_for_function("() => window.controlroom !== undefined")

    page.evaluate(
        """([key, user]) => {
            controlroom.init(key, {flushIntervalMs: 60000});
            controlroom.identify(user, {plan: "free", company: "Acme"});
            for (let i = 0; i < 3; i++) controlroom.track("Viewed Pricing", {item_id: "pro"});
        }""",
        [KEY, USER],
    )
    page.evaluate("() => controlroom.flush()")
    stats = page.evaluate("() => ({...controlroom.stats})")
    # Leaving the page sends what is still queued (fetch keepalive on pagehide).
    page.evaluate("""() => controlroom.track("Added to Cart", {item_id: "pro"})""")
    page.goto("about:blank")

    assert (stats["enqueued"], stats["sent"], stats["dropped"]) == (4, 4, 0)  # 1 identify, 3 tracks
    # The two batches are two messages that the profiles function applies concurrently, event
    # by event: wait for all five events, not for the last batch's one (it may land first).
    profile = wait_for(
        lambda: (p := _profile(emulators, USER)).get("event_count") == 5 and p,
        timeout_s=30,
        what="the profile with all five events, the one sent on leaving the page included",
    )
    assert profile["counters"] == {"identify": 1, "Viewed Pricing": 3, "Added to Cart": 1}
    assert profile["traits"]["plan"] == "free" and profile["event_count"] == 5

    page.goto(host.origin)
    page.wait_for_function("() => window.controlroom !== undefined")
    answer = page.evaluate(
        "(args) => controlroom.init(args[0]).recommendations(args[1])", [KEY, USER]
    )
    assert isinstance(answer["items"], list) and answer["strategy"]


def test_a_preflight_from_an_origin_not_allowed_is_refused(
    host_and_cloud: tuple[RecordingServer, LocalCloud],
) -> None:
    host, cloud = host_and_cloud
    url = f"{cloud.functions['webhooks'].url}/v1/batch"
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }

    allowed = httpx.options(url, headers={**preflight, "Origin": host.origin}, timeout=10)
    refused = httpx.options(url, headers={**preflight, "Origin": "http://evil.test"}, timeout=10)

    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == host.origin
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    assert refused.status_code == 403 and "http://evil.test" in refused.json()["error"]
    assert "Access-Control-Allow-Origin" not in refused.headers
