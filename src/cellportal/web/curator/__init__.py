"""The curator's pages: my collections, the metadata form, the workspace, publishing, revisions, withdrawal.

Accounts, API keys and sharing are ``web/account`` pages; the upload widget is ``uploads``. Every route here
loads its collection through ``access.load`` (the authorization policy) and every form POST checks CSRF.
"""

from __future__ import annotations

from fastapi import APIRouter

from cellportal.web.curator import collections, lifecycle, workspace

router = APIRouter(include_in_schema=False)
router.include_router(collections.router)
router.include_router(workspace.router)
router.include_router(lifecycle.router)

__all__ = ["router"]
