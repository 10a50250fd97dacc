"""What every route of the app answers to whom: the table `test_authorization_matrix.py` checks.

ADDING A ROUTE? Add one entry to `EXPECTATIONS` below, keyed by ``(METHOD, path as declared)``, e.g.
``("POST", "/collections/{collection_id}/publish"): Expect(EDIT)``. The matrix calls the route as each
principal in `PRINCIPALS` on a private, a published and a withdrawn (tombstoned) collection and compares
the outcome with the rule's. Path parameters are filled from `Fixture` by name (see `PARAMS` in the test);
give ``params=`` for others and ``data=``/``json=`` for a body the route needs to get past validation.

Outcomes (what the response says about access, not whether the operation succeeded):
- ALLOWED: anything but the refusals below and 5xx (a 400 for an empty form is ALLOWED: access was granted)
- HIDDEN: 404, the caller may not know the thing exists
- FORBIDDEN: 403, the caller may see it but not do this
- LOGIN: 401 or a redirect to /login: sign in first (never depends on the resource)
- GONE: 410, withdrawn (for everyone; the tombstone is public)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOWED, HIDDEN, FORBIDDEN, LOGIN, GONE = "allowed", "hidden", "forbidden", "login", "gone"

# The principals, from nobody to everybody.
ANONYMOUS = "anonymous"
OTHER = "other user"
VIEWER = "viewer"
EDITOR = "editor"
OWNER = "owner"
ADMIN = "admin"
LINK = "share-link holder"
REVOKED_LINK = "revoked-share-link holder"
PRINCIPALS = (ANONYMOUS, REVOKED_LINK, OTHER, LINK, VIEWER, EDITOR, OWNER, ADMIN)
USERS = (OTHER, VIEWER, EDITOR, OWNER, ADMIN)
STATES = ("private", "published", "tombstoned")

Rule = Callable[[str, str], str]  # (principal, state) -> outcome


def _by_role(private_ok: set[str], published_ok: set[str], *, refused_reader: str, anonymous: str = HIDDEN) -> Rule:
    readers = {VIEWER, EDITOR, OWNER, ADMIN, LINK}

    def rule(principal: str, state: str) -> str:
        if state == "tombstoned":
            return GONE
        allowed = private_ok if state == "private" else published_ok
        if principal in allowed:
            return ALLOWED
        can_read = state == "published" or principal in readers
        if not can_read:
            return anonymous if principal in (ANONYMOUS, LINK, REVOKED_LINK) else HIDDEN
        return refused_reader

    return rule


EVERYONE = set(PRINCIPALS)
READERS = {VIEWER, EDITOR, OWNER, ADMIN, LINK}
CURATORS = {EDITOR, OWNER, ADMIN}


def PUBLIC(principal: str, state: str) -> str:
    return ALLOWED


def PUBLIC_IF_SSO(principal: str, state: str) -> str:
    """OpenID Connect sign-in: public, but only where a provider is configured. The matrix's app has none, so
    the routes do not exist for anyone (404); tests/integration/web/test_oidc.py signs in through a provider."""
    return HIDDEN


def SIGNED_IN(principal: str, state: str) -> str:
    return ALLOWED if principal in USERS else LOGIN


def ADMIN_ONLY(principal: str, state: str) -> str:
    if principal == ADMIN:
        return ALLOWED
    return HIDDEN if principal in USERS else LOGIN


def OWN_KEY(principal: str, state: str) -> str:
    """The owner's API key: only they may revoke it; to anyone else, signed in, it does not exist."""
    if principal == OWNER:
        return ALLOWED
    return HIDDEN if principal in USERS else LOGIN


# Collection-scoped rules, from auth/policy.py's table.
READ = _by_role(READERS, EVERYONE, refused_reader=FORBIDDEN)
ORIGINAL = _by_role(CURATORS, CURATORS, refused_reader=HIDDEN)  # the raw upload: curators only, even published
SHARE = _by_role({OWNER, ADMIN}, {OWNER, ADMIN}, refused_reader=FORBIDDEN)


def _workspace(allowed: set[str]) -> Rule:
    """Curator pages (web/curator/access.py): asked as if the collection were private, since a published
    collection's public page is elsewhere; outsiders get 404 on a private collection, 403 on a published one."""

    def rule(principal: str, state: str) -> str:
        if state == "tombstoned":
            return GONE
        if principal in allowed:
            return ALLOWED
        if principal in READERS:
            return FORBIDDEN
        return HIDDEN if state == "private" else FORBIDDEN

    return rule


WORKSPACE = _workspace(READERS)
CURATE = _workspace(CURATORS)  # EDIT and PUBLISH
OWN = _workspace({OWNER, ADMIN})  # WITHDRAW (and deleting a private collection)


@dataclass(frozen=True)
class Expect:
    rule: Rule
    params: Mapping[str, str] = field(default_factory=dict)  # fixture attribute per path parameter
    data: Mapping[str, str] | None = None  # form fields (the CSRF token is added)
    json: Any = None
    # A listing: besides the outcome, the private collection's id must appear only to READERS.
    lists_private: bool = False
    note: str = ""
    # "tests/path.py::test_name": the route's access is checked there instead, because calling it needs a
    # protocol exchange (tus headers, an upload created by the caller) the matrix's one request cannot make.
    # The matrix checks that the named test exists, so the pointer cannot go stale silently.
    covered_by: str = ""


EXPECTATIONS: dict[tuple[str, str], Expect | list[Expect]] = {
    # --- framework and static -------------------------------------------------------------------------------
    ("GET", "/openapi.json"): Expect(PUBLIC),
    ("GET", "/docs"): Expect(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Expect(PUBLIC),
    ("GET", "/redoc"): Expect(PUBLIC),
    ("GET", "/healthz"): Expect(PUBLIC),
    # --- Discover API (api/discover/routes.py) --------------------------------------------------------------
    ("GET", "/curation/v1/collections"): Expect(PUBLIC, lists_private=True, note="PUBLIC listing: never private"),
    ("GET", "/curation/v1/collections/{collection_id}"): Expect(READ),
    ("GET", "/curation/v1/collections/{collection_id}/versions"): Expect(READ),
    ("GET", "/curation/v1/collection_versions/{collection_version_id}"): Expect(READ),
    ("GET", "/curation/v1/collections/{collection_id}/datasets/{dataset_id}"): Expect(READ),
    ("GET", "/curation/v1/datasets"): Expect(PUBLIC, lists_private=True),
    ("GET", "/curation/v1/datasets/{dataset_id}/versions"): Expect(READ),
    ("GET", "/curation/v1/dataset_versions/{dataset_version_id}"): Expect(READ),
    # --- downloads (api/downloads.py) -----------------------------------------------------------------------
    ("GET", "/datasets/{filename}"): [
        Expect(READ, params={"filename": "h5ad_filename"}),
        Expect(ORIGINAL, params={"filename": "raw_filename"}),
    ],
    ("HEAD", "/datasets/{filename}"): [
        Expect(READ, params={"filename": "h5ad_filename"}),
        Expect(ORIGINAL, params={"filename": "raw_filename"}),
    ],
    # --- reader pages (web/routes.py, web/browse) -----------------------------------------------------------
    ("GET", "/"): Expect(PUBLIC, lists_private=True),
    ("GET", "/collections/{collection_id}"): Expect(READ),
    ("GET", "/datasets"): Expect(PUBLIC, lists_private=True),
    ("GET", "/collections"): Expect(PUBLIC, lists_private=True),
    ("GET", "/datasets/{dataset_id}/"): Expect(READ),
    # --- processing status (api/portal_status.py) -----------------------------------------------------------
    ("GET", "/portal/api/dataset-versions/{dataset_version_id}/status"): Expect(READ),
    # --- explorer (explorer/routes.py) ----------------------------------------------------------------------
    ("GET", "/e/{any_id}/"): Expect(READ, params={"any_id": "dataset_id"}),
    ("GET", "/e/{any_id}"): Expect(READ, params={"any_id": "dataset_id"}, note="the same page as /e/{id}/"),
    ("GET", "/e/api/v1/{version_id}/schema"): Expect(READ, params={"version_id": "dataset_version_id"}),
    ("GET", "/e/api/v1/{version_id}/genes"): Expect(READ, params={"version_id": "dataset_version_id"}),
    ("GET", "/e/api/v1/{version_id}/embedding/{name}"): Expect(
        READ, params={"version_id": "dataset_version_id", "name": "embedding"}
    ),
    ("GET", "/e/api/v1/{version_id}/obs/{column}"): Expect(
        READ, params={"version_id": "dataset_version_id", "column": "obs_column"}
    ),
    ("GET", "/e/api/v1/{version_id}/gene/{gene}"): Expect(
        READ, params={"version_id": "dataset_version_id", "gene": "gene"}
    ),
    ("POST", "/e/api/v1/{version_id}/diffexp"): Expect(READ, params={"version_id": "dataset_version_id"}, json={}),
    # --- accounts (web/account/) ----------------------------------------------------------------------------
    ("GET", "/login"): Expect(PUBLIC),
    ("POST", "/login"): Expect(PUBLIC, data={"username": "nobody", "password": "wrong-password"}),
    ("GET", "/signup"): Expect(PUBLIC),
    ("POST", "/signup"): Expect(PUBLIC, data={"username": "x", "password": "short"}),
    ("POST", "/logout"): Expect(PUBLIC),
    ("GET", "/login/oidc"): Expect(PUBLIC_IF_SSO, note="404 here: the matrix's app has no OIDC provider"),
    ("GET", "/login/oidc/callback"): Expect(PUBLIC_IF_SSO, note="404 here, before any state check"),
    ("GET", "/account/api-keys"): Expect(SIGNED_IN),
    ("POST", "/account/api-keys"): Expect(SIGNED_IN, data={"name": "matrix"}),
    ("POST", "/account/api-keys/{key_id}/revoke"): Expect(OWN_KEY),
    ("GET", "/admin/users"): Expect(ADMIN_ONLY),
    ("POST", "/admin/users/{user_id}/admin"): Expect(ADMIN_ONLY, data={"make_admin": "true"}),
    ("POST", "/admin/users/{user_id}/password"): Expect(ADMIN_ONLY),
    ("POST", "/admin/users/{user_id}/disable"): Expect(ADMIN_ONLY),
    ("POST", "/admin/users/{user_id}/enable"): Expect(ADMIN_ONLY),
    ("GET", "/collections/{collection_id}/sharing"): Expect(SHARE),
    ("POST", "/collections/{collection_id}/sharing/collaborators"): Expect(
        SHARE, data={"who": "other-user", "role": "viewer"}
    ),
    ("POST", "/collections/{collection_id}/sharing/collaborators/{collaborator_id}/role"): Expect(
        SHARE, data={"role": "editor"}
    ),
    ("POST", "/collections/{collection_id}/sharing/collaborators/{collaborator_id}/remove"): Expect(SHARE),
    ("POST", "/collections/{collection_id}/sharing/links"): Expect(SHARE, data={"expires_in_days": "7"}),
    ("POST", "/collections/{collection_id}/sharing/links/{link_id}/revoke"): Expect(SHARE),
    # --- resumable uploads (api/uploads.py, tus 1.0.0) ------------------------------------------------------
    ("OPTIONS", "/uploads/"): Expect(PUBLIC, note="tus capability discovery"),
    ("OPTIONS", "/uploads/{upload_id}"): Expect(PUBLIC, params={"upload_id": "collection_id"}),
    ("POST", "/uploads/"): Expect(
        CURATE,
        covered_by="tests/integration/uploads/test_tus.py::test_creation_needs_edit_rights_on_an_unpublished_version",
    ),
    ("HEAD", "/uploads/{upload_id}"): Expect(
        CURATE, covered_by="tests/integration/uploads/test_tus.py::test_only_the_creator_sees_or_touches_an_upload"
    ),
    ("PATCH", "/uploads/{upload_id}"): Expect(
        CURATE, covered_by="tests/integration/uploads/test_tus.py::test_only_the_creator_sees_or_touches_an_upload"
    ),
    ("DELETE", "/uploads/{upload_id}"): Expect(
        CURATE, covered_by="tests/integration/uploads/test_tus.py::test_only_the_creator_sees_or_touches_an_upload"
    ),
    ("POST", "/portal/api/uploads/from-url"): Expect(
        CURATE, covered_by="tests/integration/uploads/test_from_url.py::test_only_editors_add_from_a_url"
    ),
}


# The curator pages' rows live beside their tests (same rules as WORKSPACE / CURATE / OWN above).
from tests.integration.web.curator_route_expectations import CURATOR_EXPECTATIONS  # noqa: E402

EXPECTATIONS.update(CURATOR_EXPECTATIONS)
