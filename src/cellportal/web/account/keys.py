"""The API keys page: create a key (its secret is shown once), list them, revoke one.

A key authenticates the Discover API and downloads as its user (``Authorization: Bearer cp_...``), so a
script sees what its user sees, private collections shared with them included.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cellportal.api.deps import RuntimeDep, SessionDep
from cellportal.api.errors import not_found
from cellportal.auth import accounts
from cellportal.auth.models import User
from cellportal.web.identity import RequireUserDep, verify_csrf
from cellportal.web.templating import templates

router = APIRouter(include_in_schema=False)
PAGE = "/account/api-keys"


def _page(
    request: Request, session: SessionDep, user: User, runtime: RuntimeDep, status_code: int = 200, **extra: object
) -> Response:
    context = {"keys": accounts.api_keys_of(session, user), "public_url": runtime.settings.public_url, **extra}
    return templates.TemplateResponse(request, "account/api_keys.html", context, status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
def api_keys_page(request: Request, session: SessionDep, user: RequireUserDep, runtime: RuntimeDep) -> Response:
    return _page(request, session, user, runtime)


@router.post(PAGE, response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
def create_api_key(
    request: Request,
    session: SessionDep,
    user: RequireUserDep,
    runtime: RuntimeDep,
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        created = accounts.create_api_key(session, user, name)
    except accounts.AccountError as error:
        return _page(request, session, user, runtime, status_code=400, error=str(error), name=name)
    # Shown in this response only: the database keeps the secret's digest, nobody can show it again.
    return _page(request, session, user, runtime, new_key=created.token, new_key_name=created.key.name)


@router.post(PAGE + "/{key_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_api_key(key_id: str, session: SessionDep, user: RequireUserDep) -> Response:
    try:
        accounts.revoke_api_key(session, user, key_id)
    except accounts.AccountError:
        raise not_found(f"API key {key_id}") from None
    return RedirectResponse(PAGE, status_code=303)
