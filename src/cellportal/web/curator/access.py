"""Loading a collection for a curator page, through the authorization policy.

Every curator route starts here, so none can skip ``can()``: a collection the caller may not read does
not exist for them (404, the same answer as an unknown id); one they may read but not change answers 403
with a page that says so; a withdrawn one answers 410 (its tombstone is public).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cellportal.auth.policy import Action, Principal, Resource, ResourceKind, allowed_actions
from cellportal.auth.sharing import collaborator_roles
from cellportal.catalog import service
from cellportal.catalog.errors import Gone
from cellportal.catalog.models import Collection, CollectionVersion

NOT_FOUND = "There is no collection {}, or you may not see it."


class Refused(Exception):
    """The route answers ``status`` (404 or 403) with ``message``; raised instead of returning a page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Withdrawn(Exception):
    def __init__(self, collection: Collection) -> None:
        super().__init__(collection.id)
        self.collection = collection


@dataclass
class Workspace:
    """A collection as its curators see it: the version they work on and what they may do."""

    collection: Collection
    open_version: CollectionVersion | None  # the private version, or the open revision of a published one
    published_version: CollectionVersion | None
    allowed: frozenset[Action]

    @property
    def version(self) -> CollectionVersion:
        """The version the workspace shows: the one being worked on, else the published one."""
        shown = self.open_version or self.published_version
        assert shown is not None  # a collection always has one or the other
        return shown

    @property
    def state(self) -> str:
        if self.open_version is None:
            return "published"
        return "revision" if self.collection.published_version_id else "private"

    def can(self, action: Action) -> bool:
        return action in self.allowed


def resource_of(
    session: Session, collection: Collection, *, published: bool, collaborators: Mapping[str, str] | None = None
) -> Resource:
    """The policy's view of a collection; ``collaborators`` when the caller loaded them already (listings)."""
    return Resource(
        kind=ResourceKind.COLLECTION_VERSION,
        collection_id=collection.id,
        owner_id=collection.owner_id,
        published=published,
        tombstoned=collection.tombstoned_at is not None,
        collaborators=collaborators if collaborators is not None else collaborator_roles(session, collection.id),
    )


def load(session: Session, principal: Principal, collection_id: str, action: Action = Action.READ) -> Workspace:
    """The collection named by its canonical id (or any of its version ids), if ``principal`` may ``action``.

    The policy is asked as if the collection were private: a workspace is for the people who curate or
    review it (owner, collaborators, share-link holders, admins), and being able to read the published
    version, as everyone can, grants none of that.
    """
    collection = session.get(Collection, collection_id)
    if collection is None:
        version = session.get(CollectionVersion, collection_id)
        collection = version.collection if version is not None else None
    if collection is None:
        raise Refused(404, NOT_FOUND.format(collection_id))
    if collection.tombstoned_at is not None:
        raise Withdrawn(collection)  # a tombstone is public: 410 for everyone, whatever they may do
    allowed = allowed_actions(principal, resource_of(session, collection, published=False))
    if Action.READ not in allowed:
        if collection.published_version_id is None:
            raise Refused(404, NOT_FOUND.format(collection_id))
        raise Refused(403, "This page is for the curators of this collection; its public page is open to all.")
    if action not in allowed:
        raise Refused(403, refusal(action))
    open_version = service.open_revision(session, collection_id=collection.id)
    return Workspace(collection, open_version, collection.published_version, allowed)


def refusal(action: Action) -> str:
    return {
        Action.EDIT: "You can see this collection but not change it: ask its owner to make you an editor.",
        Action.PUBLISH: "You can see this collection but not publish it: ask its owner to make you an editor.",
        Action.WITHDRAW: "Only the owner of a collection (or an admin) can withdraw it or delete it.",
        Action.SHARE: "Only the owner of a collection (or an admin) can share it.",
    }.get(action, "You may not do this to this collection.")


def gone_message(collection: Collection) -> Gone:
    assert collection.tombstoned_at is not None
    reason = collection.tombstone_reason or "no reason was recorded"
    return Gone(
        f"collection {collection.id} was withdrawn on {collection.tombstoned_at:%Y-%m-%d}: {reason}",
        reason=reason,
        tombstoned_at=collection.tombstoned_at,
    )
