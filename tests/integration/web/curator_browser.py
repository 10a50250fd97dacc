"""A signed-in browser for the curator page tests: a TestClient with a real account's session cookie,
that fills in forms the way a page does (reading the CSRF field the page rendered)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from cellportal.auth import accounts
from cellportal.auth.cookies import SESSION_COOKIE
from cellportal.catalog.db import transaction
from cellportal.runtime import Runtime

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class Browser:
    def __init__(self, app: FastAPI, user_id: str | None = None, session_token: str | None = None) -> None:
        # https, like the public URL: the identity cookies are Secure there and would not be sent over http.
        self.client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        self.user_id = user_id
        if session_token:
            self.client.cookies.set(SESSION_COOKIE, session_token)

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.client.get(url, **kwargs)

    def follow(self, response: Response) -> Response:
        """The page a POST-redirect-GET lands on (the flash message shows there)."""
        assert response.status_code == 303, (response.status_code, response.text[:2000])
        return self.client.get(response.headers["location"])

    def submit(self, page_url: str, action_url: str | None = None, data: Any = None) -> Response:
        """GET the page that holds the form, then POST ``data`` to ``action_url`` with the page's hidden fields
        (its CSRF token, a confirmation's fingerprint), as a browser submitting that form would."""
        page = self.client.get(page_url)
        assert page.status_code == 200, (page.status_code, page.text[:2000])
        hidden = dict(_HIDDEN.findall(page.text))
        assert "csrf_token" in hidden, "the page has no CSRF field"
        fields = _pairs(data)
        given = {key for key, _ in fields}
        kept = [(key, value) for key, value in hidden.items() if key not in given]
        return self.client.post(action_url or page_url, data=as_form([*kept, *fields]))

    def post_without_csrf(self, url: str, data: Any = None) -> Response:
        return self.client.post(url, data=as_form(_pairs(data)))


def _pairs(data: Any) -> list[tuple[str, str]]:
    return list(data.items()) if isinstance(data, dict) else list(data or [])


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Repeated fields (the link rows) as httpx sends them: one key, a list of values, in order."""
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def make_user(runtime: Runtime, username: str, *, admin: bool = False) -> tuple[str, str]:
    """A real account and a live web session: (user id, session cookie value)."""
    with transaction(runtime.sessions) as session:
        # No password: argon2 would cost a second per user, and these tests sign in by session, not by password.
        user = accounts.create_user(session, username, None, email=f"{username}@example.org", admin=admin)
        token = accounts.start_session(session, user, timedelta(hours=1))
        return user.id, token
