"""The authorization policy: one pure function, ``can(principal, action, resource)``, decides every access.

Rules today:
- anyone, signed in or not, reads and downloads what is published;
- the owner of a collection, and admins, also read and download its private versions;
- the original upload (``raw_h5ad``) is downloadable by the owner and admins only, even once published;
- nobody else learns that private data exists: routes turn a refusal into 404, never 403.

Tombstones are not an authorization matter: a withdrawn collection was public, so the route tells
everyone 410 and why. This module only answers "may this principal know about / fetch this?".

How it grows (the sharing issue): `Resource.collaborators` maps user ids to a role (viewer/editor) and
`Principal.share_collection_ids` holds the collections whose share link the request presented; `can()`
gains a branch for each, and every route keeps calling the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    READ = "read"  # see metadata (API, pages)
    DOWNLOAD = "download"  # fetch a derived artifact: h5ad, rds, loom, explorer store
    DOWNLOAD_ORIGINAL = "download_original"  # fetch the upload as received (raw_h5ad)


class ResourceKind(StrEnum):
    COLLECTION_VERSION = "collection_version"
    DATASET_VERSION = "dataset_version"
    ARTIFACT = "artifact"


class Role(StrEnum):
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller: anonymous (no user id) or a user with roles."""

    user_id: str | None = None
    roles: frozenset[str] = frozenset()
    # Collections whose share link the request carried (filled by the sharing issue).
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
    collection_id: str  # canonical id: the unit of ownership and, later, of sharing
    owner_id: str | None
    published: bool
    tombstoned: bool = False
    # user id -> "viewer" | "editor" (filled by the sharing issue)
    collaborators: Mapping[str, str] = field(default_factory=dict)


def can(principal: Principal, action: Action, resource: Resource) -> bool:
    if principal.is_admin:
        return True
    is_owner = principal.user_id is not None and principal.user_id == resource.owner_id
    if action is Action.DOWNLOAD_ORIGINAL:
        return is_owner
    if action in (Action.READ, Action.DOWNLOAD):
        return resource.published or is_owner
    return False
