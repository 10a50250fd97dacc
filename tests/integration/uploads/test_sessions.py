"""Uploads from a signed-in browser session: the CSRF header is required, and collaborators' roles apply."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from cellportal.app import create_app
from cellportal.auth.models import User
from cellportal.catalog.db import transaction
from cellportal.runtime import Runtime
from tests.fixtures.accounts import add_collaborator, create_user, csrf_token, signed_in
from tests.fixtures.builders import make_collection
from tests.integration.uploads.conftest import metadata


@pytest.fixture
def app_client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


@pytest.fixture
def owner(runtime: Runtime) -> User:
    return create_user(runtime, "olga")


@pytest.fixture
def collection(runtime: Runtime, owner: User) -> tuple[str, str]:
    """(collection id, private version id) owned by olga."""
    with transaction(runtime.sessions) as session:
        version = make_collection(session, owner_id=owner.id, published=False, datasets=1)
        return version.collection_id, version.id


def create(client: TestClient, version_id: str, token: str | None) -> int:
    headers = {
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "10",
        "Upload-Metadata": metadata(filename="a.h5ad", collection_version_id=version_id),
    }
    if token is not None:
        headers["X-CSRF-Token"] = token
    return client.post("/uploads/", headers=headers).status_code


def test_a_session_needs_the_csrf_header(app_client: TestClient, owner: User, collection: tuple[str, str]) -> None:
    signed_in(app_client, "olga")
    token = csrf_token(app_client)
    assert create(app_client, collection[1], None) == 403
    assert create(app_client, collection[1], "not-the-token") == 403
    response = app_client.post(
        "/uploads/",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "4",
            "Upload-Metadata": metadata(filename="a.h5ad", collection_version_id=collection[1]),
            "X-CSRF-Token": token,
        },
    )
    assert response.status_code == 201
    location = response.headers["Location"]
    chunk = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    assert app_client.patch(location, content=b"ab", headers=chunk).status_code == 403
    assert app_client.patch(location, content=b"ab", headers={**chunk, "X-CSRF-Token": token}).status_code == 204


@pytest.mark.parametrize(("role", "status"), [("editor", 201), ("viewer", 403)])
def test_collaborators_upload_as_their_role_allows(
    app_client: TestClient, runtime: Runtime, owner: User, collection: tuple[str, str], role: str, status: int
) -> None:
    create_user(runtime, "bob")
    add_collaborator(runtime, collection[0], "bob", role, added_by=owner.id)
    signed_in(app_client, "bob")
    assert create(app_client, collection[1], csrf_token(app_client)) == status
