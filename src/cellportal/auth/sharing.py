"""Collaborators and share links of a collection: who besides its owner may see or curate it.

Both attach to the canonical collection, so they cover its private first version and any later revision.
Every function leaves committing to the caller; authorization (the SHARE action) is the caller's too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cellportal.auth.accounts import AccountError, find_user
from cellportal.auth.models import Collaborator, ShareLink, User
from cellportal.auth.policy import CollaboratorRole
from cellportal.auth.secrets import digest, new_token


def _now() -> datetime:
    return datetime.now(UTC)


def _role(role: str) -> CollaboratorRole:
    try:
        return CollaboratorRole(role)
    except ValueError:
        raise AccountError(f"A collaborator's role is 'viewer' or 'editor', not '{role}'.") from None


# --- collaborators ------------------------------------------------------------------------------------------


def collaborator_roles(session: Session, collection_id: str) -> dict[str, str]:
    """user id -> role, for `policy.Resource.collaborators`."""
    rows = session.execute(
        select(Collaborator.user_id, Collaborator.role).where(Collaborator.collection_id == collection_id)
    )
    return {user_id: role for user_id, role in rows}


def collaborators_of(session: Session, collection_id: str) -> list[tuple[Collaborator, User]]:
    query = (
        select(Collaborator, User)
        .join(User, User.id == Collaborator.user_id)
        .where(Collaborator.collection_id == collection_id)
        .order_by(User.username)
    )
    return [(collaborator, user) for collaborator, user in session.execute(query)]


def add_collaborator(
    session: Session,
    collection_id: str,
    username_or_email: str,
    role: str,
    *,
    added_by: str | None,
    owner_id: str | None = None,
) -> Collaborator:
    """Give a user a role on the collection; an existing collaborator gets the new role."""
    wanted = _role(role)
    user = find_user(session, username_or_email)
    if user is None or not user.is_active:
        raise AccountError(f"No active account is called or registered as '{username_or_email.strip()}'.")
    if owner_id is not None and user.id == owner_id:
        raise AccountError(f"{user.username} owns this collection already.")
    existing = session.scalars(
        select(Collaborator).where(Collaborator.collection_id == collection_id, Collaborator.user_id == user.id)
    ).first()
    if existing is not None:
        existing.role = wanted
        return existing
    collaborator = Collaborator(collection_id=collection_id, user_id=user.id, role=wanted, added_by=added_by)
    session.add(collaborator)
    session.flush()
    return collaborator


def _collaborator(session: Session, collection_id: str, collaborator_id: str) -> Collaborator:
    row = session.get(Collaborator, collaborator_id)
    if row is None or row.collection_id != collection_id:
        raise AccountError("That person is not a collaborator on this collection (any more).")
    return row


def set_collaborator_role(session: Session, collection_id: str, collaborator_id: str, role: str) -> Collaborator:
    row = _collaborator(session, collection_id, collaborator_id)
    row.role = _role(role)
    return row


def remove_collaborator(session: Session, collection_id: str, collaborator_id: str) -> None:
    session.delete(_collaborator(session, collection_id, collaborator_id))
    session.flush()


# --- share links --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewShareLink:
    link: ShareLink
    token: str  # shown once, as part of a URL: ...?share=<token>


def create_share_link(
    session: Session, collection_id: str, *, created_by: str | None, expires_at: datetime | None = None
) -> NewShareLink:
    if expires_at is not None and expires_at <= _now():
        raise AccountError("The expiry date of a share link must be in the future.")
    token = new_token()
    link = ShareLink(
        collection_id=collection_id, token_sha256=digest(token), created_by=created_by, expires_at=expires_at
    )
    session.add(link)
    session.flush()
    return NewShareLink(link, token)


def share_links_of(session: Session, collection_id: str) -> list[ShareLink]:
    query = select(ShareLink).where(ShareLink.collection_id == collection_id).order_by(ShareLink.created_at.desc())
    return list(session.scalars(query))


def revoke_share_link(session: Session, collection_id: str, link_id: str) -> ShareLink:
    link = session.get(ShareLink, link_id)
    if link is None or link.collection_id != collection_id:
        raise AccountError("There is no such share link on this collection.")
    if link.revoked_at is None:
        link.revoked_at = _now()
    return link


def live_link_for_token(session: Session, token: str) -> ShareLink | None:
    """The live share link a `?share=` token names, or None (unknown, revoked, expired)."""
    link = session.scalars(select(ShareLink).where(ShareLink.token_sha256 == digest(token))).first()
    return link if link is not None and link.is_live(_now()) else None


def live_shared_collections(session: Session, link_ids: Iterable[str]) -> dict[str, str]:
    """link id -> collection id of those of `link_ids` that are still live (a revoked link drops out here)."""
    ids = sorted(set(link_ids))
    if not ids:
        return {}
    now = _now()
    links = session.scalars(select(ShareLink).where(ShareLink.id.in_(ids)))
    return {link.id: link.collection_id for link in links if link.is_live(now)}
