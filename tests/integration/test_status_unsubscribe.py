"""Unsubscribing from an email's link, through the status function on the emulators: the page
asks, the button or a mail client's one-click request unsubscribes, once; a link that is not
ours changes nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

import flask
import pytest

from shared.email.firestore import SUPPRESSIONS, FirestoreSuppressions
from shared.email.unsubscribe import address_key
from shared.wiring.email import mailing
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client

pytestmark = pytest.mark.integration

ADDRESS = "ana.diaz@example.com"


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    return function_client("status", "status_page", "http")


def _path(address: str = ADDRESS) -> str:
    parts = urlsplit(mailing().link(address))
    return f"{parts.path}?{parts.query}"


def _suppressed(project: str) -> set[str]:
    return FirestoreSuppressions(project).suppressed_among([address_key(ADDRESS)])


def test_the_link_opens_a_page_that_asks_and_writes_nothing(
    client: flask.testing.FlaskClient, clean_emulators: Emulators
) -> None:
    response = client.get(_path(), headers={"Accept": "text/html"})
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Get no more offers from Northwind Goods?" in html and 'method="post"' in html
    assert ADDRESS not in html  # the page never shows the address
    assert _suppressed(clean_emulators.project) == set()  # a mail scanner's GET changes nothing


def test_the_button_unsubscribes_once_and_says_so_again_on_a_repeat(
    client: flask.testing.FlaskClient, clean_emulators: Emulators
) -> None:
    first = client.post(_path(), headers={"Accept": "text/html"})
    again = client.post(_path(), headers={"Accept": "text/html"})

    assert first.status_code == again.status_code == 200
    assert "You are unsubscribed" in first.get_data(as_text=True)
    assert "unsubscribed already" in again.get_data(as_text=True)
    assert _suppressed(clean_emulators.project) == {address_key(ADDRESS)}
    client_db = FirestoreSuppressions(clean_emulators.project).client
    (document,) = client_db.collection(SUPPRESSIONS).stream()
    assert document.to_dict()["source"] == "link" and ADDRESS not in str(document.to_dict())


def test_a_mail_clients_one_click_request_unsubscribes_without_a_cookie_or_a_page(
    client: flask.testing.FlaskClient, clean_emulators: Emulators
) -> None:
    response = client.post(_path(), data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert response.get_json() == {"unsubscribed": True, "already": False}
    client_db = FirestoreSuppressions(clean_emulators.project).client
    (document,) = client_db.collection(SUPPRESSIONS).stream()
    assert document.to_dict()["source"] == "one-click"


@pytest.mark.parametrize(
    "edit",
    [
        lambda path: path[:-1] + ("A" if path[-1] != "A" else "B"),  # the token changed
        lambda path: path.replace("a=", "a=0"),  # the key is not 32 hex characters
        lambda path: path.split("&")[0],  # no token
        lambda path: _path("bob@example.com").split("&")[0] + "&" + path.split("&")[1],
    ],
    ids=["token", "key", "no-token", "another-key"],
)
def test_a_link_that_is_not_ours_is_a_400_and_unsubscribes_nobody(
    client: flask.testing.FlaskClient, clean_emulators: Emulators, edit: object
) -> None:
    path = edit(_path())  # type: ignore[operator]
    page = client.post(path, headers={"Accept": "text/html"})
    one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert page.status_code == one_click.status_code == 400
    assert "This link does not work" in page.get_data(as_text=True)
    assert "token" in one_click.get_json()["error"] or "key" in one_click.get_json()["error"]
    assert _suppressed(clean_emulators.project) == set()
    assert (
        FirestoreSuppressions(clean_emulators.project).suppressed_among(
            [address_key("bob@example.com")]
        )
        == set()
    )
