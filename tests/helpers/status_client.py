"""Test clients of the status function, signed in (a bearer token on every request) or not."""

from __future__ import annotations

import re

import flask

from tests.conftest import API_TOKEN
from tests.helpers.functions_app import function_client


def status_client(token: str | None = API_TOKEN) -> flask.testing.FlaskClient:
    """The status function through functions-framework; every request carries `token` as a
    bearer token unless the request sets its own Authorization header (None: no token)."""
    client = function_client("status", "status_page", "http")
    if token is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def clear_settings_caches() -> None:
    """Forget the settings and every adapter built from them (after changing the environment)."""
    from shared.wiring import services as wiring
    from shared.wiring.settings import get_settings

    get_settings.cache_clear()
    for name in dir(wiring):
        cached = getattr(wiring, name)
        if callable(getattr(cached, "cache_clear", None)):
            cached.cache_clear()


def form_value(html: str, name: str) -> str:
    """The value of the first hidden input called `name` in a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no {name} field in the page"
    return found.group(1)


def sign_in(client: flask.testing.FlaskClient, token: str) -> str:
    """Sign in as a browser does (form, nonce cookie, session cookie); returns the session's
    anti-forgery token, read from a page's form."""
    form = client.get("/signin", headers=BROWSER).get_data(as_text=True)
    response = client.post(
        "/signin",
        data={"token": token, "next": "/runs", "signin_nonce": form_value(form, "signin_nonce")},
        headers=BROWSER,
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get("/runs", headers=BROWSER).get_data(as_text=True)
    return form_value(page, "csrf_token")
