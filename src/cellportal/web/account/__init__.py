"""Account pages: sign up, sign in and out, API keys, the admin's user list, and collection sharing."""

from fastapi import APIRouter

from cellportal.web.account import admin, keys, sessions, sharing

router = APIRouter(include_in_schema=False)
for part in (sessions, keys, admin, sharing):
    router.include_router(part.router)

__all__ = ["router"]
