"""The SQL twin of the policy: `visible_collections_clause` selects exactly the collections `can()` lets read."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cellportal.api.discover.queries import collection_version_resource
from cellportal.auth import accounts, sharing
from cellportal.auth.policy import Action, Principal, Role, can
from cellportal.auth.visibility import visible_collections_clause
from cellportal.catalog import service
from cellportal.catalog.models import Collection
from tests.fixtures.builders import make_collection


@pytest.mark.parametrize("db_backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_the_clause_and_the_policy_agree_for_every_principal(db_session: Session) -> None:
    session = db_session
    owner = accounts.create_user(session, "owner", None)
    viewer = accounts.create_user(session, "viewer", None)
    stranger = accounts.create_user(session, "stranger", None)
    private = make_collection(session, owner_id=owner.id, name="private", datasets=0, published=False)
    shared = make_collection(session, owner_id=owner.id, name="shared", datasets=0, published=False)
    linked = make_collection(session, owner_id=owner.id, name="linked", datasets=0, published=False)
    public = make_collection(session, owner_id=owner.id, name="public", datasets=1)
    withdrawn = make_collection(session, owner_id=owner.id, name="withdrawn", datasets=1)
    service.withdraw_collection(session, collection_id=withdrawn.collection_id, reason="test")
    sharing.add_collaborator(session, shared.collection_id, "viewer", "viewer", added_by=owner.id)
    session.flush()

    principals = {
        "anonymous": Principal(),
        "owner": Principal(user_id=owner.id),
        "viewer": Principal(user_id=viewer.id),
        "stranger": Principal(user_id=stranger.id),
        "link holder": Principal(share_collection_ids=frozenset({linked.collection_id})),
        "admin": Principal(user_id="root", roles=frozenset({Role.ADMIN})),
    }
    versions = [private, shared, linked, public]  # withdrawn collections are never listed
    for name, principal in principals.items():
        listed = set(session.scalars(select(Collection.id).where(visible_collections_clause(principal))))
        allowed = {v.collection_id for v in versions if can(principal, Action.READ, collection_version_resource(v))}
        assert listed == allowed, name
        assert withdrawn.collection_id not in listed
        with_tombstones = set(
            session.scalars(select(Collection.id).where(visible_collections_clause(principal, include_tombstoned=True)))
        )
        assert withdrawn.collection_id in with_tombstones, name  # it was published: everyone may know of it
