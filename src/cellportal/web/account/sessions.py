"""Sign up, sign in, sign out: forms that start and end a web session (the ``cp_session`` cookie)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cellportal.api.deps import RuntimeDep, SessionDep
from cellportal.api.errors import not_found
from cellportal.auth import accounts
from cellportal.auth.cookies import SESSION_COOKIE, CookiePolicy
from cellportal.auth.models import User
from cellportal.auth.throttle import FailureThrottle
from cellportal.runtime import Runtime
from cellportal.web.identity import CurrentUserDep, verify_csrf
from cellportal.web.templating import templates

router = APIRouter(include_in_schema=False)


def _throttle(request: Request) -> FailureThrottle:
    """The app's own failed-login counter (per app, so two apps in one process, as in tests, never share it)."""
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        state.login_throttle = FailureThrottle()
    throttle: FailureThrottle = state.login_throttle
    return throttle


CsrfChecked = [Depends(verify_csrf)]


def safe_next(next_url: str | None) -> str:
    """Only a path on this site: `next` comes from a URL anyone can craft (no open redirect)."""
    if not next_url or not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
        return "/"
    return next_url


def _signed_in_response(runtime: Runtime, session: SessionDep, user: User, next_url: str | None) -> Response:
    lifetime = timedelta(days=runtime.settings.session_days)
    token = accounts.start_session(session, user, lifetime)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    policy = CookiePolicy.for_public_url(runtime.settings.public_url)
    response.set_cookie(SESSION_COOKIE, token, **policy.kwargs(max_age=int(lifetime.total_seconds())))  # type: ignore[arg-type]
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, runtime: RuntimeDep, user: CurrentUserDep, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return templates.TemplateResponse(request, "account/login.html", _login_context(runtime, next))


def _login_context(runtime: Runtime, next_url: str | None, **extra: object) -> dict[str, object]:
    settings = runtime.settings
    return {
        "next": safe_next(next_url),
        "allow_signup": settings.allow_signup,
        "oidc_label": settings.oidc_label if settings.oidc_enabled else None,
        **extra,
    }


@router.post("/login", response_class=HTMLResponse, dependencies=CsrfChecked)
def login(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    address = _client(request)
    throttle = _throttle(request)
    wait = throttle.retry_after(address, username)
    if wait is not None:
        context = _login_context(
            runtime, next, username=username, error=f"Too many failed attempts: try again in {wait / 60:.0f} minutes."
        )
        return templates.TemplateResponse(request, "account/login.html", context, status_code=429)
    user = accounts.authenticate(session, username, password)
    if user is None:
        throttle.failed(address, username)
        context = _login_context(runtime, next, username=username, error="Wrong username or password.")
        return templates.TemplateResponse(request, "account/login.html", context, status_code=400)
    throttle.succeeded(address, username)
    return _signed_in_response(runtime, session, user, next)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    if not runtime.settings.allow_signup:
        raise not_found("This page")
    return templates.TemplateResponse(request, "account/signup.html", {"next": safe_next(next)})


@router.post("/signup", response_class=HTMLResponse, dependencies=CsrfChecked)
def signup(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    username: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    if not runtime.settings.allow_signup:
        raise not_found("This page")
    form = {"username": username, "email": email, "next": safe_next(next)}
    if password != password_again:
        context = {**form, "error": "The two passwords differ; type the same password twice."}
        return templates.TemplateResponse(request, "account/signup.html", context, status_code=400)
    try:
        user = accounts.create_user(session, username, password, email=email or None)
    except accounts.AccountError as error:
        return templates.TemplateResponse(
            request, "account/signup.html", {**form, "error": str(error)}, status_code=400
        )
    return _signed_in_response(runtime, session, user, next)


@router.post("/logout", dependencies=CsrfChecked)
def logout(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    policy = CookiePolicy.for_public_url(runtime.settings.public_url)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=policy.secure, httponly=True, samesite="lax")
    return response
