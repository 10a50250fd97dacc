"""The first portal pages: home, collection page, tombstone page; same visibility as the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cellportal.catalog import service
from tests.fixtures.builders import make_collection


def test_home_lists_recent_published_collections_and_counts(client: TestClient, write, put_blob) -> None:
    with write() as session:
        published = make_collection(session, name="A lung atlas", put_blob=put_blob)
        make_collection(session, name="Secret draft", published=False)

    page = client.get("/")

    assert page.status_code == 200
    assert "A lung atlas" in page.text
    assert f'href="/collections/{published.collection_id}"' in page.text
    assert "Secret draft" not in page.text
    assert "<strong>2</strong> datasets" in page.text  # the draft's two datasets are not counted


def test_collection_page_shows_datasets_and_versions(client: TestClient, write, put_blob) -> None:
    with write() as session:
        version = make_collection(session, name="A lung atlas", put_blob=put_blob)

    page = client.get(f"/collections/{version.collection_id}")

    assert page.status_code == 200
    assert "Dataset 1" in page.text and "Dataset 2" in page.text
    dataset = version.dataset_versions[0]
    assert f"/datasets/{dataset.id}.h5ad" in page.text  # in its download dialog
    assert f"/e/{dataset.id}/" in page.text  # Explore this version
    assert version.id in page.text  # listed under published versions
    assert "10.1000/cellportal.test" in page.text


def test_withdrawn_collection_page_is_410_and_says_why(client: TestClient, write, put_blob) -> None:
    with write() as session:
        version = make_collection(session, put_blob=put_blob)
    with write() as session:
        service.withdraw_collection(session, collection_id=version.collection_id, reason="Consent was withdrawn")

    page = client.get(f"/collections/{version.collection_id}")

    assert page.status_code == 410
    assert "Consent was withdrawn" in page.text
    assert "withdrawn" in page.text


def test_private_collection_page_is_404_for_a_stranger(client: TestClient, write) -> None:
    with write() as session:
        version = make_collection(session, published=False)

    assert client.get(f"/collections/{version.collection_id}").status_code == 404
    owner = client.get(f"/collections/{version.collection_id}", headers={"Authorization": "Bearer owner-token"})
    assert owner.status_code == 200
