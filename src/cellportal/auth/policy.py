"""The authorization policy: one pure function, ``can(principal, action, resource)``, decides every access.

Who may do what to a collection (and to its datasets and files), while it is private:

| action            | admin | owner | editor | viewer | share link | anyone else |
|-------------------|-------|-------|--------|--------|------------|-------------|
| READ (and explore)| yes   | yes   | yes    | yes    | yes        | no          |
| DOWNLOAD          | yes   | yes   | yes    | yes    | yes        | no          |
| DOWNLOAD_ORIGINAL | yes   | yes   | yes    | no     | no         | no          |
| EDIT              | yes   | yes   | yes    | no     | no         | no          |
| PUBLISH           | yes   | yes   | yes    | no     | no         | no          |
| SHARE             | yes   | yes   | no     | no     | no         | no          |
| WITHDRAW          | yes   | yes   | no     | no     | no         | no          |

Once published, everyone also READs and DOWNLOADs it; the other rows stay as they are. An editor may fetch
the original upload because editors add and replace datasets themselves; sharing (who else gets in) and
withdrawal (irreversible, public) stay with the owner. A share link is a collection-wide read grant: it
covers every unpublished version of that collection (a revision too); a revoked or expired link is not in
``Principal.share_collection_ids`` at all, so it grants nothing.

Nobody else learns that private data exists: routes turn a refusal into 404, never 403.
Tombstones are not an authorization matter: a withdrawn collection was public, so the route tells
everyone 410 and why. This module only answers "may this principal know about / fetch / change this?".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    READ = "read"  # see metadata (API, pages)
    DOWNLOAD = "download"  # fetch a derived artifact: h5ad, rds, loom, explorer store
    DOWNLOAD_ORIGINAL = "download_original"  # fetch the upload as received (raw_h5ad)
    EDIT = "edit"  # change metadata, add/replace/remove datasets, start/cancel a revision
    PUBLISH = "publish"
    SHARE = "share"  # manage collaborators and share links
    WITHDRAW = "withdraw"  # tombstone a published collection or dataset


class ResourceKind(StrEnum):
    COLLECTION_VERSION = "collection_version"
    DATASET_VERSION = "dataset_version"
    ARTIFACT = "artifact"


class Role(StrEnum):
    ADMIN = "admin"


class CollaboratorRole(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"


# What each relation to a collection may do, published or not (public reads are added below).
_READS = frozenset({Action.READ, Action.DOWNLOAD})
_EDITOR = _READS | {Action.DOWNLOAD_ORIGINAL, Action.EDIT, Action.PUBLISH}
_OWNER = _EDITOR | {Action.SHARE, Action.WITHDRAW}
_BY_ROLE: Mapping[str, frozenset[Action]] = {CollaboratorRole.VIEWER: _READS, CollaboratorRole.EDITOR: _EDITOR}


@dataclass(frozen=True)
class Principal:
    """The caller: anonymous (no user id) or a user with roles, plus the share links the request carried."""

    user_id: str | None = None
    roles: frozenset[str] = frozenset()
    # Collections whose live (not revoked, not expired) share link the request presented.
    share_collection_ids: frozenset[str] = frozenset()

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


ANONYMOUS = Principal()


@dataclass(frozen=True)
class Resource:
    """What is being accessed, reduced to the facts the policy needs."""

    kind: ResourceKind
    collection_id: str  # canonical id: the unit of ownership and of sharing
    owner_id: str | None
    published: bool
    tombstoned: bool = False
    # user id -> "viewer" | "editor" (CollaboratorRole)
    collaborators: Mapping[str, str] = field(default_factory=dict)


def allowed_actions(principal: Principal, resource: Resource) -> frozenset[Action]:
    """Everything `principal` may do to `resource` (the table above, as a set)."""
    if principal.is_admin:
        return frozenset(Action)
    allowed: set[Action] = set(_READS) if resource.published else set()
    if principal.user_id is not None:
        if principal.user_id == resource.owner_id:
            allowed |= _OWNER
        role = resource.collaborators.get(principal.user_id)
        if role is not None:
            allowed |= _BY_ROLE.get(role, frozenset())
    if resource.collection_id in principal.share_collection_ids:
        allowed |= _READS
    return frozenset(allowed)


def can(principal: Principal, action: Action, resource: Resource) -> bool:
    return action in allowed_actions(principal, resource)
