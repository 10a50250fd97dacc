"""Which collections a principal may see, as SQL: the listing-side twin of `policy.can`.

Listings, facets, counts and search must filter in the database (a page of 20 out of 10 000, a count
of cells), so they cannot call `can()` row by row. These clauses encode the same rules as the policy's
READ: published collections for everyone; for a signed-in user also the private ones they own or
collaborate on; for a share-link holder the linked ones; everything for admins. Anything built on them
never counts a private row for anyone else. `tests/integration/auth/test_visibility.py` checks they agree
with `can()` row by row.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from cellportal.auth.models import Collaborator
from cellportal.auth.policy import Principal
from cellportal.catalog.models import Collection


def private_access_clause(principal: Principal) -> ColumnElement[bool]:
    """Collections whose *unpublished* versions (a private collection, an open revision) the principal reads."""
    if principal.is_admin:
        return true()
    grants: list[ColumnElement[bool]] = []
    if principal.user_id is not None:
        collaborations = select(Collaborator.collection_id).where(Collaborator.user_id == principal.user_id)
        grants += [Collection.owner_id == principal.user_id, Collection.id.in_(collaborations)]
    if principal.share_collection_ids:
        grants.append(Collection.id.in_(sorted(principal.share_collection_ids)))
    return or_(*grants) if grants else false()


def visible_collections_clause(principal: Principal, *, include_tombstoned: bool = False) -> ColumnElement[bool]:
    """Collections that may appear in this principal's listings: published ones, plus `private_access_clause`.

    Withdrawn collections are left out unless ``include_tombstoned`` (their tombstone page is public, but a
    listing of what exists should not show them).
    """
    visible = or_(Collection.published_version_id.is_not(None), private_access_clause(principal))
    if include_tombstoned:
        return visible
    return and_(Collection.tombstoned_at.is_(None), visible)
