"""A collection's sharing page, ``/collections/{id}/sharing``: collaborators and share links (SHARE action).

Who may not even read the collection gets 404, exactly as for the collection itself; who may read it but
not share it (a viewer, an editor, anyone on a published collection) gets 403 and why. A new share link's
URL is shown once, in the response that created it: only its digest is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.discover import queries
from cellportal.api.errors import Problem
from cellportal.auth import sharing
from cellportal.auth.accounts import AccountError
from cellportal.auth.middleware import SHARE_PARAMETER
from cellportal.auth.policy import Action, CollaboratorRole, Principal, can
from cellportal.catalog.models import CollectionVersion
from cellportal.web.identity import verify_csrf
from cellportal.web.templating import templates

router = APIRouter(include_in_schema=False)
CsrfChecked = [Depends(verify_csrf)]
MAX_LINK_DAYS = 3650


def page_url(collection_id: str) -> str:
    return f"/collections/{collection_id}/sharing"


def shareable_version(session: Session, principal: Principal, collection_id: str) -> CollectionVersion:
    """The collection's version the page is about, once the principal is known to hold SHARE on it."""
    version = queries.readable_collection_version(session, principal, collection_id)  # 404 / 410 first
    if not can(principal, Action.SHARE, queries.collection_version_resource(version)):
        raise Problem(403, "Forbidden", "Only the collection's owner (or an admin) manages who it is shared with.")
    return version


def _page(
    request: Request,
    session: Session,
    version: CollectionVersion,
    *,
    status_code: int = 200,
    **extra: object,
) -> Response:
    collection_id = version.collection_id
    context = {
        "collection_id": collection_id,
        "collection_name": version.name,
        "published": version.collection.published_version_id is not None,
        "collaborators": sharing.collaborators_of(session, collection_id),
        "links": sharing.share_links_of(session, collection_id),
        "roles": [role.value for role in CollaboratorRole],
        "now": datetime.now(UTC),
        **extra,
    }
    return templates.TemplateResponse(request, "account/sharing.html", context, status_code=status_code)


@router.get("/collections/{collection_id}/sharing", response_class=HTMLResponse)
def sharing_page(collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    return _page(request, session, shareable_version(session, principal, collection_id))


@router.post("/collections/{collection_id}/sharing/collaborators", dependencies=CsrfChecked)
def add_collaborator(
    collection_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    who: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = CollaboratorRole.VIEWER,
) -> Response:
    version = shareable_version(session, principal, collection_id)
    try:
        sharing.add_collaborator(
            session,
            version.collection_id,
            who,
            role,
            added_by=principal.user_id,
            owner_id=version.collection.owner_id,
        )
    except AccountError as error:
        return _page(request, session, version, status_code=400, error=str(error), who=who)
    return RedirectResponse(page_url(version.collection_id), status_code=303)


@router.post("/collections/{collection_id}/sharing/collaborators/{collaborator_id}/role", dependencies=CsrfChecked)
def change_role(
    collection_id: str,
    collaborator_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    role: Annotated[str, Form()] = "",
) -> Response:
    version = shareable_version(session, principal, collection_id)
    try:
        sharing.set_collaborator_role(session, version.collection_id, collaborator_id, role)
    except AccountError as error:
        return _page(request, session, version, status_code=400, error=str(error))
    return RedirectResponse(page_url(version.collection_id), status_code=303)


@router.post("/collections/{collection_id}/sharing/collaborators/{collaborator_id}/remove", dependencies=CsrfChecked)
def remove_collaborator(
    collection_id: str, collaborator_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    version = shareable_version(session, principal, collection_id)
    try:
        sharing.remove_collaborator(session, version.collection_id, collaborator_id)
    except AccountError as error:
        return _page(request, session, version, status_code=400, error=str(error))
    return RedirectResponse(page_url(version.collection_id), status_code=303)


@router.post("/collections/{collection_id}/sharing/links", response_class=HTMLResponse, dependencies=CsrfChecked)
def create_link(
    collection_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    expires_in_days: Annotated[str, Form()] = "",
) -> Response:
    version = shareable_version(session, principal, collection_id)
    expires_at = None
    if expires_in_days.strip():
        try:
            days = float(expires_in_days)
        except ValueError:
            days = -1
        if not 0 < days <= MAX_LINK_DAYS:
            message = f"Expiry: a number of days between 0 and {MAX_LINK_DAYS}, or empty for a link that never expires."
            return _page(request, session, version, status_code=400, error=message)
        expires_at = datetime.now(UTC) + timedelta(days=days)
    try:
        created = sharing.create_share_link(
            session, version.collection_id, created_by=principal.user_id, expires_at=expires_at
        )
    except AccountError as error:
        return _page(request, session, version, status_code=400, error=str(error))
    base = runtime.settings.public_url.rstrip("/")
    url = f"{base}/collections/{version.collection_id}?{SHARE_PARAMETER}={created.token}"
    return _page(request, session, version, new_link_url=url)


@router.post("/collections/{collection_id}/sharing/links/{link_id}/revoke", dependencies=CsrfChecked)
def revoke_link(
    collection_id: str, link_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    version = shareable_version(session, principal, collection_id)
    try:
        sharing.revoke_share_link(session, version.collection_id, link_id)
    except AccountError as error:
        return _page(request, session, version, status_code=400, error=str(error))
    return RedirectResponse(page_url(version.collection_id), status_code=303)
