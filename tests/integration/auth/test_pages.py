"""The account pages through the real forms: API keys, the admin's users page, a collection's sharing page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cellportal.runtime import Runtime
from tests.fixtures.accounts import create_user, form_post, signed_in, use_https
from tests.fixtures.builders import make_collection


def test_api_keys_are_shown_once_listed_used_and_revoked(client: TestClient, runtime: Runtime, write) -> None:
    owner = create_user(runtime, "owner")
    with write() as session:
        collection_id = make_collection(session, owner_id=owner.id, published=False).collection_id
    signed_in(client, "owner")

    created = form_post(client, "/account/api-keys", {"name": "lab server"}, page="/account/api-keys")
    assert created.status_code == 200
    key = re.search(r'<code id="new-key">(cp_[^<]+)</code>', created.text)
    assert key is not None
    listing = client.get("/account/api-keys")
    assert "lab server" in listing.text and key.group(1) not in listing.text  # never shown again

    api = TestClient(client.app)
    bearer = {"Authorization": f"Bearer {key.group(1)}"}
    assert api.get(f"/curation/v1/collections/{collection_id}", headers=bearer).status_code == 200
    assert "never" not in client.get("/account/api-keys").text.split("lab server")[1].split("</tr>")[0]

    key_id = re.search(r"/account/api-keys/([0-9a-f-]+)/revoke", listing.text)
    assert key_id is not None
    revoked = form_post(client, f"/account/api-keys/{key_id.group(1)}/revoke", {}, page="/account/api-keys")
    assert revoked.status_code == 303
    assert api.get(f"/curation/v1/collections/{collection_id}", headers=bearer).status_code == 401


def test_the_api_keys_page_asks_anonymous_visitors_to_sign_in(client: TestClient) -> None:
    response = client.get("/account/api-keys", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/account/api-keys"


def test_admin_resets_a_password_disables_and_promotes(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "root", admin=True)
    bob = create_user(runtime, "bob", "bobs-password")
    signed_in(client, "root")

    page = client.get("/admin/users")
    assert page.status_code == 200 and 'data-username="bob"' in page.text

    reset = form_post(client, f"/admin/users/{bob.id}/password", {}, page="/admin/users")
    one_time = re.search(r'data-testid="one-time-password">.*?<code>([^<]+)</code>', reset.text, re.S)
    assert reset.status_code == 200 and one_time is not None
    other = use_https(TestClient(client.app))
    signed_in(other, "bob", one_time.group(1))

    assert (
        form_post(client, f"/admin/users/{bob.id}/admin", {"make_admin": "true"}, page="/admin/users").status_code
        == 303
    )
    assert other.get("/admin/users").status_code == 200  # bob is an admin now

    assert form_post(client, f"/admin/users/{bob.id}/disable", {}, page="/admin/users").status_code == 303
    assert "signed-in-as" not in other.get("/").text  # his session ended with the account
    assert form_post(other, "/login", {"username": "bob", "password": one_time.group(1)}).status_code == 400


def test_non_admins_do_not_see_the_users_page(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice")
    signed_in(client, "alice")
    assert client.get("/admin/users").status_code == 404


def test_the_owner_shares_with_a_collaborator_and_a_link_then_takes_both_back(
    client: TestClient, runtime: Runtime, write
) -> None:
    owner = create_user(runtime, "owner")
    create_user(runtime, "bob", email="bob@example.org")
    with write() as session:
        collection_id = make_collection(session, owner_id=owner.id, name="Draft atlas", published=False).collection_id
    page = f"/collections/{collection_id}/sharing"
    signed_in(client, "owner")
    bob = use_https(TestClient(client.app))
    signed_in(bob, "bob")
    assert bob.get(f"/collections/{collection_id}").status_code == 404

    added = form_post(client, f"{page}/collaborators", {"who": "bob@example.org", "role": "viewer"}, page=page)
    assert added.status_code == 303
    assert bob.get(f"/collections/{collection_id}").status_code == 200
    assert bob.get(page).status_code == 403  # a viewer sees the collection but does not manage sharing

    unknown = form_post(client, f"{page}/collaborators", {"who": "nobody", "role": "viewer"}, page=page)
    assert unknown.status_code == 400 and "No active account" in unknown.text

    sharing_page = client.get(page).text
    collaborator_id = re.search(r"/sharing/collaborators/([0-9a-f-]+)/remove", sharing_page)
    assert collaborator_id is not None
    assert (
        form_post(client, f"{page}/collaborators/{collaborator_id.group(1)}/remove", {}, page=page).status_code == 303
    )
    assert bob.get(f"/collections/{collection_id}").status_code == 404

    created = form_post(client, f"{page}/links", {"expires_in_days": "2"}, page=page)
    url = re.search(r'<code id="new-link">([^<]+)</code>', created.text)
    assert created.status_code == 200 and url is not None
    stranger = use_https(TestClient(client.app))
    path = url.group(1).removeprefix("https://cells.example.org")
    assert stranger.get(path).status_code == 200 and "Draft atlas" in stranger.get(path).text

    link_id = re.search(r"/sharing/links/([0-9a-f-]+)/revoke", client.get(page).text)
    assert link_id is not None
    assert form_post(client, f"{page}/links/{link_id.group(1)}/revoke", {}, page=page).status_code == 303
    assert stranger.get(f"/collections/{collection_id}").status_code == 404

    bad = form_post(client, f"{page}/links", {"expires_in_days": "soon"}, page=page)
    assert bad.status_code == 400 and "number of days" in bad.text
