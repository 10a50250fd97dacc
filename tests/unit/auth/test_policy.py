"""The authorization policy, as a table: who may do what to which resource (docs/auth.md has the same table)."""

from __future__ import annotations

import pytest

from cellportal.auth.policy import (
    ANONYMOUS,
    Action,
    CollaboratorRole,
    Principal,
    Resource,
    ResourceKind,
    Role,
    allowed_actions,
    can,
)

OWNER = Principal(user_id="owner")
STRANGER = Principal(user_id="stranger")
VIEWER = Principal(user_id="viewer")
EDITOR = Principal(user_id="editor")
ADMIN = Principal(user_id="root", roles=frozenset({Role.ADMIN}))
LINK_HOLDER = Principal(share_collection_ids=frozenset({"c1"}))  # anonymous, with c1's live share link
SIGNED_IN_LINK_HOLDER = Principal(user_id="stranger", share_collection_ids=frozenset({"c1"}))
OTHER_LINK_HOLDER = Principal(share_collection_ids=frozenset({"c2"}))  # a link to another collection

R, D, ORIG, E, P, S, W = (
    Action.READ,
    Action.DOWNLOAD,
    Action.DOWNLOAD_ORIGINAL,
    Action.EDIT,
    Action.PUBLISH,
    Action.SHARE,
    Action.WITHDRAW,
)
EVERYTHING = {R, D, ORIG, E, P, S, W}


def resource(*, published: bool, tombstoned: bool = False, kind: ResourceKind = ResourceKind.DATASET_VERSION):
    return Resource(
        kind=kind,
        collection_id="c1",
        owner_id="owner",
        published=published,
        tombstoned=tombstoned,
        collaborators={"viewer": CollaboratorRole.VIEWER, "editor": CollaboratorRole.EDITOR},
    )


# principal -> (allowed while private, allowed once published)
TABLE: list[tuple[str, Principal, set[Action], set[Action]]] = [
    ("admin", ADMIN, EVERYTHING, EVERYTHING),
    ("owner", OWNER, EVERYTHING, EVERYTHING),
    ("editor", EDITOR, {R, D, ORIG, E, P}, {R, D, ORIG, E, P}),
    ("viewer", VIEWER, {R, D}, {R, D}),
    ("share link holder", LINK_HOLDER, {R, D}, {R, D}),
    ("signed-in share link holder", SIGNED_IN_LINK_HOLDER, {R, D}, {R, D}),
    ("holder of another collection's link", OTHER_LINK_HOLDER, set(), {R, D}),
    ("other user", STRANGER, set(), {R, D}),
    ("anonymous", ANONYMOUS, set(), {R, D}),
]


@pytest.mark.parametrize(("who", "principal", "private", "published"), TABLE, ids=[row[0] for row in TABLE])
def test_who_may_do_what(who: str, principal: Principal, private: set[Action], published: set[Action]) -> None:
    for kind in ResourceKind:
        for tombstoned in (False, True):  # tombstones are the routes' business (410), not the policy's
            assert allowed_actions(principal, resource(published=False, kind=kind, tombstoned=tombstoned)) == private
            assert allowed_actions(principal, resource(published=True, kind=kind, tombstoned=tombstoned)) == published
            for action in Action:
                assert can(principal, action, resource(published=True, kind=kind)) is (action in published)
                assert can(principal, action, resource(published=False, kind=kind)) is (action in private)


def test_a_resource_without_owner_is_private_to_admins() -> None:
    orphan = Resource(kind=ResourceKind.COLLECTION_VERSION, collection_id="c", owner_id=None, published=False)

    assert not can(Principal(user_id=None), Action.READ, orphan)
    assert not can(STRANGER, Action.READ, orphan)
    assert can(ADMIN, Action.READ, orphan)


def test_an_unknown_collaborator_role_grants_nothing() -> None:
    odd = Resource(
        kind=ResourceKind.COLLECTION_VERSION,
        collection_id="c1",
        owner_id="owner",
        published=False,
        collaborators={"stranger": "superuser"},
    )
    assert allowed_actions(STRANGER, odd) == frozenset()


def test_a_collaborator_of_another_collection_gets_nothing_here() -> None:
    elsewhere = Resource(
        kind=ResourceKind.COLLECTION_VERSION, collection_id="c1", owner_id="owner", published=False, collaborators={}
    )
    assert allowed_actions(EDITOR, elsewhere) == frozenset()


def test_principal_flags() -> None:
    assert ANONYMOUS.is_anonymous and not ANONYMOUS.is_admin
    assert ADMIN.is_admin and not ADMIN.is_anonymous
    assert LINK_HOLDER.is_anonymous
