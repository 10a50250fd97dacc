"""Account pages: sign up, sign in (password or OpenID Connect) and out, API keys, the admin's user list,
and collection sharing."""

from fastapi import APIRouter

from cellportal.web.account import admin, keys, oidc, sessions, sharing

router = APIRouter(include_in_schema=False)
for part in (sessions, oidc, keys, admin, sharing):
    router.include_router(part.router)

__all__ = ["router"]
