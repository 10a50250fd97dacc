"""The admin's users page: every account, make or unmake admin, reset a password (shown once), disable.

For anyone but an admin these pages do not exist (404). An admin cannot take away their own admin role or
disable themselves, so an installation always keeps a way in (the CLI can still do it:
``cellportal users set-admin``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cellportal.api.deps import SessionDep
from cellportal.api.errors import Problem, not_found
from cellportal.auth import accounts
from cellportal.auth.models import User
from cellportal.web.identity import RequireAdminDep, verify_csrf
from cellportal.web.templating import templates

router = APIRouter(include_in_schema=False)
PAGE = "/admin/users"
CsrfChecked = [Depends(verify_csrf)]


def _users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def _target(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found(f"User {user_id}")
    return user


def _not_yourself(admin: User, target: User, what: str) -> None:
    if admin.id == target.id:
        raise Problem(409, "Conflict", f"You cannot {what} yourself; ask another admin or use `cellportal users`.")


def _page(request: Request, session: Session, admin: User, **extra: object) -> Response:
    context = {"users": _users(session), "me": admin, **extra}
    return templates.TemplateResponse(request, "account/admin_users.html", context)


@router.get(PAGE, response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, admin: RequireAdminDep) -> Response:
    return _page(request, session, admin)


@router.post(PAGE + "/{user_id}/admin", dependencies=CsrfChecked)
def set_admin(
    user_id: str, session: SessionDep, admin: RequireAdminDep, make_admin: Annotated[bool, Form()] = False
) -> Response:
    target = _target(session, user_id)
    if not make_admin:
        _not_yourself(admin, target, "remove the admin role from")
    accounts.set_admin(target, make_admin)
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/{user_id}/password", response_class=HTMLResponse, dependencies=CsrfChecked)
def reset_password(request: Request, user_id: str, session: SessionDep, admin: RequireAdminDep) -> Response:
    target = _target(session, user_id)
    password = accounts.reset_password(session, target)
    return _page(request, session, admin, reset_for=target.username, one_time_password=password)


@router.post(PAGE + "/{user_id}/disable", dependencies=CsrfChecked)
def disable(user_id: str, session: SessionDep, admin: RequireAdminDep) -> Response:
    target = _target(session, user_id)
    _not_yourself(admin, target, "disable")
    accounts.disable_user(session, target)
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/{user_id}/enable", dependencies=CsrfChecked)
def enable(user_id: str, session: SessionDep, admin: RequireAdminDep) -> Response:
    accounts.enable_user(_target(session, user_id))
    return RedirectResponse(PAGE, status_code=303)
