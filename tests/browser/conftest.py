"""Browser tier: the local cloud, and Debian's Chromium driven by Playwright like a person.

Playwright never downloads a browser here: it launches /usr/bin/chromium (`make browser`
installs the Debian package). Every test gets a fresh browser context (no cookies) and signs
in through /signin; screenshots go to test-artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from emulators.cloud import LocalCloud, LocalCloudConfig
from shared.adapters.firestore_store import FirestoreStore
from tests.conftest import API_TOKEN, Emulators

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Headless, and nothing that reaches the internet (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The support agent's analysis (weekly run only; the site chat does not load data) waits
# this long, so the run is still in progress when the browser opens its page.
SLOW_AGENT_S = 4
WAIT_MS = 60_000  # for a run to finish
STEP_MS = 15_000  # for a page or element (the machine may be busy with other processes)

expect.set_options(timeout=STEP_MS)


HELP_CENTRE_URL = "https://help.northwind.example/articles"


@pytest.fixture(scope="module")
def cloud(emulators: Emulators, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """The local cloud on the session's emulators, one agent slowed down."""
    config = LocalCloudConfig(
        project=emulators.project,
        api_token=API_TOKEN,
        workdir=tmp_path_factory.mktemp("local-cloud-browser"),
        function_env={
            "agent-support": {
                "CONTROLROOM_FAULTS": json.dumps({"support": {"delay_s": SLOW_AGENT_S}})
            },
            "support-messages": {"CONTROLROOM_KB_ARTICLES_URL": HELP_CENTRE_URL},
        },
    )
    local = LocalCloud(config).start(emulators=(emulators.firestore, emulators.pubsub))
    yield local
    local.stop()


@pytest.fixture
def store(cloud: LocalCloud, emulators: Emulators) -> FirestoreStore:
    """The store, emptied before the test."""
    emulators.reset()
    return FirestoreStore(emulators.project)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver (its own Node process)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium; Playwright gives it a fresh temporary user-data dir."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh context (no cookies, no storage) at a desktop size."""
    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    fresh.set_default_timeout(STEP_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab in the test's fresh context; a script error or a console error (a blocked
    script or style is one: the Content-Security-Policy reports there) fails the test."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    tab.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error"
            else None
        ),
    )
    yield tab
    assert errors == [], f"the browser reported errors: {errors}"


class Screenshots:
    """Numbered full-page screenshots named after the test."""

    def __init__(self, test_name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", test_name)
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, what: str) -> Path:
        """Save the whole page as <test>-<n>-<what>.png."""
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Screenshots:
    """Where this test's screenshots go."""
    for old in SCREENSHOTS.glob(f"{re.sub(r'[^A-Za-z0-9_-]+', '-', request.node.name)}-*.png"):
        old.unlink()
    return Screenshots(request.node.name)


def sign_in(page: Page, cloud: LocalCloud, next_path: str = "/runs") -> None:
    """Sign in through the /signin form with the act token, as a person would."""
    page.goto(f"{cloud.status_url}/signin?next={next_path}")
    page.get_by_label("Access token").fill(API_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{cloud.status_url}{next_path}")
    expect(page.locator(".who")).to_contain_text("Signed in as api (may act)")
