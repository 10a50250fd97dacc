"""The curator pages' rows of the authorization matrix (`tests/integration/auth/route_expectations.py`).

Kept beside the curator tests so the matrix's table can take them in one line::

    from tests.integration.web.curator_route_expectations import CURATOR_EXPECTATIONS
    EXPECTATIONS.update(CURATOR_EXPECTATIONS)

The rules are the policy's (web/curator/access.py asks `allowed_actions` as if the collection were private):
the workspace is for READERS (owner, collaborators, share-link holders, admins), changing it for CURATORS,
withdrawing or deleting for the owner and admins; 404 to whoever may not know a private collection, 403 to
whoever may see it but not do this, 410 on a withdrawn one for everyone. Only /my and creating a collection
need an account. A redirect after a refused *operation* (e.g. "publish" with nothing unpublished) is ALLOWED:
access was granted.
"""

from __future__ import annotations

from tests.integration.auth.route_expectations import (
    ADMIN,
    CURATORS,
    FORBIDDEN,
    OWNER,
    READERS,
    SIGNED_IN,
    Expect,
    _by_role,
)

WORKSPACE = _by_role(READERS, READERS, refused_reader=FORBIDDEN)
CURATE = _by_role(CURATORS, CURATORS, refused_reader=FORBIDDEN)  # EDIT and PUBLISH
OWNERS = _by_role({OWNER, ADMIN}, {OWNER, ADMIN}, refused_reader=FORBIDDEN)  # WITHDRAW (and delete)

_C = "/collections/{collection_id}"
_D = _C + "/datasets/{dataset_id}"

CURATOR_EXPECTATIONS: dict[tuple[str, str], Expect] = {
    ("GET", "/my"): Expect(SIGNED_IN, lists_private=True),
    ("GET", "/collections/new"): Expect(SIGNED_IN),
    ("POST", "/collections/new"): Expect(SIGNED_IN, data={"name": ""}, note="422: the form comes back"),
    ("GET", _C + "/edit"): Expect(CURATE),
    ("POST", _C + "/edit"): Expect(CURATE, data={"name": ""}),
    ("GET", _C + "/workspace"): Expect(WORKSPACE),
    ("GET", _D + "/replace"): Expect(CURATE),
    ("GET", _D + "/remove"): Expect(CURATE),
    ("POST", _D + "/remove"): Expect(CURATE),
    ("GET", _C + "/publish"): Expect(CURATE),
    ("POST", _C + "/publish"): Expect(CURATE, note="no fingerprint: back to the confirmation, nothing published"),
    ("POST", _C + "/revision"): Expect(CURATE),
    ("GET", _C + "/revision/cancel"): Expect(CURATE),
    ("POST", _C + "/revision/cancel"): Expect(CURATE),
    ("GET", _C + "/withdraw"): Expect(OWNERS),
    ("POST", _C + "/withdraw"): Expect(OWNERS, data={"reason": "matrix"}),
    ("GET", _D + "/withdraw"): Expect(OWNERS),
    ("POST", _D + "/withdraw"): Expect(OWNERS, data={"reason": "matrix"}),
    ("GET", _C + "/delete"): Expect(OWNERS),
    ("POST", _C + "/delete"): Expect(OWNERS),
}
