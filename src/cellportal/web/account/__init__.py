"""Account pages: sign up, sign in and out, API keys, the admin's user list, and collection sharing."""

from fastapi import APIRouter

from cellportal.web.account import sessions

router = APIRouter(include_in_schema=False)
router.include_router(sessions.router)

__all__ = ["router"]
