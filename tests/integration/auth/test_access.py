"""Who sees a private collection through the API and pages: API keys, collaborators, share links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from cellportal.auth.cookies import SHARE_COOKIE, sign_link_ids
from cellportal.runtime import Runtime
from tests.fixtures.accounts import (
    add_collaborator,
    create_api_key,
    create_share_link,
    create_user,
    revoke_share_link,
    signed_in,
    use_https,
)
from tests.fixtures.builders import make_collection


def _private(write, owner_id: str, put_blob=None) -> tuple[str, str]:
    with write() as session:
        version = make_collection(session, owner_id=owner_id, name="Secret draft", published=False, put_blob=put_blob)
        return version.collection_id, version.dataset_versions[0].id


def test_an_api_key_reads_its_users_private_collections_and_nothing_else(
    client: TestClient, runtime: Runtime, write
) -> None:
    owner = create_user(runtime, "owner")
    create_user(runtime, "other")
    collection_id, _ = _private(write, owner.id)
    mine = {"Authorization": f"Bearer {create_api_key(runtime, 'owner')}"}
    theirs = {"Authorization": f"Bearer {create_api_key(runtime, 'other')}"}

    assert client.get(f"/curation/v1/collections/{collection_id}", headers=mine).status_code == 200
    assert client.get(f"/curation/v1/collections/{collection_id}", headers=theirs).status_code == 404
    assert client.get(f"/curation/v1/collections/{collection_id}").status_code == 404


def test_a_revoked_or_made_up_api_key_is_401_not_anonymous(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "owner")
    token = create_api_key(runtime, "owner")
    with runtime.sessions() as session, session.begin():
        from cellportal.auth import accounts

        user = accounts.find_user(session, "owner")
        assert user is not None
        accounts.revoke_api_key(session, user, accounts.api_keys_of(session, user)[0].id)

    for key in (token, "cp_nothere_" + "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        response = client.get("/curation/v1/collections", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 401, key


def test_collaborators_read_private_collections_and_see_them_listed(
    client: TestClient, runtime: Runtime, write, put_blob
) -> None:
    owner = create_user(runtime, "owner")
    create_user(runtime, "viewer")
    create_user(runtime, "other")
    collection_id, dataset_version_id = _private(write, owner.id, put_blob)
    add_collaborator(runtime, collection_id, "viewer", "viewer", added_by=owner.id)

    viewer = {"Authorization": f"Bearer {create_api_key(runtime, 'viewer')}"}
    other = {"Authorization": f"Bearer {create_api_key(runtime, 'other')}"}
    assert client.get(f"/curation/v1/collections/{collection_id}", headers=viewer).status_code == 200
    assert client.get(f"/curation/v1/collections/{collection_id}", headers=other).status_code == 404

    listed = client.get("/curation/v1/collections?visibility=PRIVATE", headers=viewer)
    assert [c["collection_id"] for c in listed.json()] == [collection_id]
    assert client.get("/curation/v1/collections?visibility=PRIVATE", headers=other).json() == []

    download = client.get(f"/datasets/{dataset_version_id}.h5ad", headers=viewer, follow_redirects=False)
    assert download.status_code == 200
    refused = client.get(f"/datasets/{dataset_version_id}.h5ad", headers=other, follow_redirects=False)
    assert refused.status_code == 404
    # The upload as received stays with the curators: a viewer is not one.
    raw = client.get(f"/datasets/{dataset_version_id}.raw.h5ad", headers=viewer, follow_redirects=False)
    assert raw.status_code == 404


def test_a_share_link_opens_the_collection_and_keeps_working_inside_it(
    client: TestClient, runtime: Runtime, write
) -> None:
    owner = create_user(runtime, "owner")
    collection_id, _ = _private(write, owner.id)
    token = create_share_link(runtime, collection_id, created_by=owner.id)
    use_https(client)

    assert client.get(f"/collections/{collection_id}").status_code == 404
    opened = client.get(f"/collections/{collection_id}?share={token}")
    assert opened.status_code == 200 and "Secret draft" in opened.text
    assert SHARE_COOKIE in client.cookies
    # The cookie remembers the link: the page and the API answer without the token in the URL.
    assert client.get(f"/collections/{collection_id}").status_code == 200
    assert client.get(f"/curation/v1/collections/{collection_id}").status_code == 200

    revoke_share_link(runtime, collection_id, token)
    assert client.get(f"/collections/{collection_id}").status_code == 404
    assert client.get(f"/collections/{collection_id}?share={token}").status_code == 404


def test_an_expired_or_forged_share_link_opens_nothing(client: TestClient, runtime: Runtime, write) -> None:
    owner = create_user(runtime, "owner")
    collection_id, _ = _private(write, owner.id)
    token = create_share_link(
        runtime, collection_id, created_by=owner.id, expires_at=datetime.now(UTC) + timedelta(seconds=1)
    )
    use_https(client)
    with runtime.sessions() as session, session.begin():
        from cellportal.auth.models import ShareLink

        for link in session.query(ShareLink).all():
            link.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get(f"/collections/{collection_id}?share={token}").status_code == 404


def test_a_share_cookie_opens_only_with_the_servers_signature(client: TestClient, runtime: Runtime, write) -> None:
    """The cookie names a live link; only the signature differs between the two requests."""
    from cellportal.auth.models import ShareLink

    owner = create_user(runtime, "owner")
    collection_id, _ = _private(write, owner.id)
    create_share_link(runtime, collection_id, created_by=owner.id)
    with runtime.sessions() as session:
        link_id = session.query(ShareLink.id).scalar()
    use_https(client)
    client.cookies.set(SHARE_COOKIE, f"{link_id}~{'0' * 43}")
    assert client.get(f"/collections/{collection_id}").status_code == 404
    client.cookies.clear()
    signed = sign_link_ids(runtime.settings.secret_key, [link_id])
    client.cookies.set(SHARE_COOKIE, signed)
    assert client.get(f"/collections/{collection_id}").status_code == 200


def test_a_share_link_of_one_collection_does_not_open_another(client: TestClient, runtime: Runtime, write) -> None:
    owner = create_user(runtime, "owner")
    first, _ = _private(write, owner.id)
    second, _ = _private(write, owner.id)
    token = create_share_link(runtime, first, created_by=owner.id)
    use_https(client)

    assert client.get(f"/collections/{first}?share={token}").status_code == 200
    assert client.get(f"/collections/{second}").status_code == 404
    assert client.get(f"/collections/{second}?share={token}").status_code == 404


def test_signed_in_owner_sees_private_page(client: TestClient, runtime: Runtime, write) -> None:
    owner = create_user(runtime, "owner")
    collection_id, _ = _private(write, owner.id)
    assert client.get(f"/collections/{collection_id}").status_code == 404
    signed_in(client, "owner")
    assert client.get(f"/collections/{collection_id}").status_code == 200
