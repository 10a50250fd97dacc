"""The "My collections" list: every collection the user curates or reviews, with what they may do to it.

Candidates come from one query (owned, or shared with the user as a collaborator; every collection for an
admin); what each row offers is then decided by ``allowed_actions`` on the same resource the workspace
uses, so the list can never offer a button the page behind it would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from cellportal.auth.models import Collaborator
from cellportal.auth.policy import Action, Principal, allowed_actions
from cellportal.catalog.models import Collection, CollectionVersion, CollectionVersionDataset
from cellportal.web.curator.access import resource_of
from cellportal.web.curator.status import Summary, summarize


@dataclass(frozen=True)
class MyCollection:
    collection_id: str
    name: str
    state: str  # "private" | "revision" | "published"
    relation: str  # "owner" | "editor" | "viewer" | "admin"
    summary: Summary  # of the version being worked on (else the published one)
    published_at: str | None
    can_edit: bool


def _relation(principal: Principal, collection: Collection, roles: dict[str, str]) -> str:
    if collection.owner_id == principal.user_id:
        return "owner"
    return roles.get(collection.id) or ("admin" if principal.is_admin else "viewer")


def my_collections(session: Session, principal: Principal) -> list[MyCollection]:
    if principal.user_id is None:
        return []
    mine = select(Collaborator.collection_id, Collaborator.role).where(Collaborator.user_id == principal.user_id)
    roles: dict[str, str] = {collection_id: role for collection_id, role in session.execute(mine)}
    query = select(Collection).where(Collection.tombstoned_at.is_(None))
    if not principal.is_admin:
        query = query.where(or_(Collection.owner_id == principal.user_id, Collection.id.in_(list(roles))))
    links = selectinload(CollectionVersion.dataset_links).selectinload(CollectionVersionDataset.dataset_version)
    collections = session.scalars(
        query.options(selectinload(Collection.versions).options(links), selectinload(Collection.published_version))
    ).all()
    everyone: dict[str, dict[str, str]] = {}
    ids = [collection.id for collection in collections]
    for chunk in (ids[start : start + 500] for start in range(0, len(ids), 500)):
        found = select(Collaborator.collection_id, Collaborator.user_id, Collaborator.role).where(
            Collaborator.collection_id.in_(chunk)
        )
        for collection_id, user_id, role in session.execute(found):
            everyone.setdefault(collection_id, {})[user_id] = role
    rows = []
    for collection in collections:
        resource = resource_of(session, collection, published=False, collaborators=everyone.get(collection.id, {}))
        allowed = allowed_actions(principal, resource)
        if Action.READ not in allowed:
            continue
        open_version = next((v for v in collection.versions if v.published_at is None), None)
        shown = open_version or collection.published_version
        if shown is None:
            continue
        published = collection.published_version
        rows.append(
            MyCollection(
                collection_id=collection.id,
                name=shown.name,
                state="published" if open_version is None else ("revision" if published else "private"),
                relation=_relation(principal, collection, roles),
                summary=summarize([v.processing_status for v in shown.dataset_versions]),
                published_at=f"{published.published_at:%Y-%m-%d}" if published and published.published_at else None,
                can_edit=Action.EDIT in allowed,
            )
        )
    order = {"private": 0, "revision": 1, "published": 2}
    return sorted(rows, key=lambda row: (order[row.state], row.name.lower()))
