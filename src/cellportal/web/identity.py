"""Who is signed in, for pages: the current user, login-required redirects, and CSRF protection of forms.

- `CurrentUserDep`: the signed-in `User` (None when anonymous, or for the operator's admin token).
- `RequireUserDep` / `RequireAdminDep`: pages for signed-in users redirect (303) anonymous visitors to
  ``/login?next=<this page>``; admin pages answer 404 to everyone else (they do not exist for them).
- CSRF: double-submit token. `csrf_token(request)` (a Jinja global) returns the ``cp_csrf`` cookie's value,
  minting one when missing (the page's response then sets the cookie); `verify_csrf` (a dependency of every
  form POST) requires the form field ``csrf_token`` or the header ``X-CSRF-Token`` to equal the cookie. A
  cross-site page can make the browser send the cookie but can neither read it nor set it, so it cannot
  forge the field. Requests with an ``Authorization`` header carry no ambient credentials and are exempt.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from cellportal.api.deps import PrincipalDep, SessionDep
from cellportal.api.errors import Problem, not_found
from cellportal.auth.cookies import CSRF_COOKIE, CookiePolicy
from cellportal.auth.models import User
from cellportal.auth.secrets import new_token

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_STATE_NEW_CSRF = "new_csrf_token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_TOKEN_LENGTH = 43  # new_token(32)


def current_user(session: SessionDep, principal: PrincipalDep) -> User | None:
    if principal.user_id is None:
        return None
    user = session.get(User, principal.user_id)
    return user if user is not None and user.is_active else None


CurrentUserDep = Annotated[User | None, Depends(current_user)]


class LoginRequired(Exception):
    """Raised by `require_user`; answered with a 303 to the login page that comes back here afterwards."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def require_user(request: Request, user: CurrentUserDep) -> User:
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


RequireUserDep = Annotated[User, Depends(require_user)]


def require_admin(user: RequireUserDep) -> User:
    if not user.is_admin:
        raise not_found("This page")
    return user


RequireAdminDep = Annotated[User, Depends(require_admin)]


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='/')}"


async def _on_login_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_url), status_code=303)


def install_identity(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _on_login_required)


# --- CSRF ---------------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, minted (and set as a cookie by the page's response) when it has none."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) == _TOKEN_LENGTH:
        return existing
    minted: str | None = getattr(request.state, _STATE_NEW_CSRF, None)
    if minted is None:
        minted = new_token()
        setattr(request.state, _STATE_NEW_CSRF, minted)
    return minted


def attach_new_csrf_cookie(request: Request, response: Response) -> None:
    """Set the cookie of a token `csrf_token` minted while this response was rendered."""
    minted: str | None = getattr(request.state, _STATE_NEW_CSRF, None)
    if minted is not None:
        policy = CookiePolicy.for_public_url(request.app.state.runtime.settings.public_url)
        response.set_cookie(CSRF_COOKIE, minted, **policy.kwargs(max_age=None))  # type: ignore[arg-type]


async def verify_csrf(request: Request) -> None:
    """Dependency of state-changing form/XHR endpoints: 403 unless the request proves it came from our pages."""
    if request.method in _SAFE_METHODS or request.headers.get("authorization"):
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise Problem(
            403,
            "Forbidden",
            "This form was not sent from this site's page, or the page is too old: reload it and try again "
            "(cookies must be enabled).",
        )


CsrfDep = Depends(verify_csrf)
