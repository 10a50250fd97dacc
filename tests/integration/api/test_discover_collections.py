"""GET /curation/v1/collections..., on a real catalog: visibility, versions, revisions, tombstones."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from cellportal.catalog import service
from tests.fixtures.builders import add_ready_dataset, make_collection
from tests.integration.api.conftest import OWNER, PUBLIC_URL, as_

API = "/curation/v1"


def test_lists_published_collections_only(client: TestClient, write) -> None:
    with write() as session:
        public = make_collection(session, name="Public atlas")
        private = make_collection(session, name="Private atlas", published=False)
        public_id, private_id = public.collection_id, private.collection_id

    listed = client.get(f"{API}/collections")

    assert listed.status_code == 200
    assert [c["collection_id"] for c in listed.json()] == [public_id]
    item = listed.json()[0]
    assert item["visibility"] == "PUBLIC"
    assert item["collection_url"] == f"{PUBLIC_URL}/collections/{public_id}"
    assert item["doi"] == "10.1000/cellportal.test"
    assert [link["link_type"] for link in item["links"]] == ["RAW_DATA"]
    assert {d["organism"][0]["ontology_term_id"] for d in item["datasets"]} == {"NCBITaxon:9606"}
    assert set(item["datasets"][0]) == {"assay", "disease", "dataset_id", "organism", "tissue", "suspension_type"}
    for who in ("owner", "stranger"):
        assert private_id not in {c["collection_id"] for c in client.get(f"{API}/collections", headers=as_(who)).json()}


def test_private_listing_needs_a_caller_and_shows_only_theirs(client: TestClient, write) -> None:
    with write() as session:
        mine = make_collection(session, published=False).collection_id
        make_collection(session, owner_id="someone-else", published=False)

    assert client.get(f"{API}/collections", params={"visibility": "PRIVATE"}).status_code == 401
    owned = client.get(f"{API}/collections", params={"visibility": "PRIVATE"}, headers=as_("owner")).json()
    assert [(c["collection_id"], c["visibility"]) for c in owned] == [(mine, "PRIVATE")]
    everything = client.get(f"{API}/collections", params={"visibility": "PRIVATE"}, headers=as_("admin")).json()
    assert len(everything) == 2
    by_curator = {"visibility": "PRIVATE", "curator": "ada curator"}
    assert len(client.get(f"{API}/collections", params=by_curator, headers=as_("admin")).json()) == 2
    assert client.get(f"{API}/collections", params=by_curator, headers=as_("owner")).status_code == 403


def test_private_collection_is_404_for_all_but_owner_and_admin(client: TestClient, write) -> None:
    with write() as session:
        private = make_collection(session, published=False)
        collection_id, version_id = private.collection_id, private.id

    for any_id in (collection_id, version_id):
        anonymous = client.get(f"{API}/collections/{any_id}")
        assert anonymous.status_code == 404
        assert anonymous.headers["content-type"] == "application/problem+json"
        unknown = client.get(f"{API}/collections/00000000-0000-0000-0000-000000000000")
        assert set(anonymous.json()) == set(unknown.json())  # the same answer as for an id that never existed
        assert client.get(f"{API}/collections/{any_id}", headers=as_("stranger")).status_code == 404
        for who in ("owner", "admin"):
            seen = client.get(f"{API}/collections/{any_id}", headers=as_(who))
            assert seen.status_code == 200
            assert seen.json()["visibility"] == "PRIVATE"
            assert seen.json()["collection_id"] == collection_id  # never published: the permalink is the id
            assert seen.json()["processing_status"] == "SUCCESS"
    assert client.get(f"{API}/collections/{collection_id}/versions", headers=as_("owner")).json() == []


def test_canonical_id_follows_the_latest_published_version(client: TestClient, write) -> None:
    with write() as session:
        first = make_collection(session, datasets=1)
        collection_id, first_id = first.collection_id, first.id
        revision = service.start_revision(session, collection_id=collection_id)
        service.update_collection_metadata(session, collection_version_id=revision.id, name="Renamed atlas")
        service.publish(session, collection_version_id=revision.id)
        second_id = revision.id

    latest = client.get(f"{API}/collections/{collection_id}").json()
    assert (latest["collection_version_id"], latest["name"]) == (second_id, "Renamed atlas")
    old = client.get(f"{API}/collections/{first_id}").json()
    assert (old["collection_version_id"], old["name"]) == (first_id, "A lung atlas")
    versions = client.get(f"{API}/collections/{collection_id}/versions").json()
    assert [v["collection_version_id"] for v in versions] == [second_id, first_id]  # newest first
    assert client.get(f"{API}/collection_versions/{first_id}").json()["name"] == "A lung atlas"
    # A dataset untouched by the revision keeps its version id in both collection versions.
    assert {dv["dataset_version_id"] for dv in versions[0]["dataset_versions"]} == {
        dv["dataset_version_id"] for dv in versions[1]["dataset_versions"]
    }


def test_open_revision_is_private_and_announced_to_its_owner_only(client: TestClient, write) -> None:
    with write() as session:
        published = make_collection(session, datasets=1)
        collection_id = published.collection_id
        revision = service.start_revision(session, collection_id=collection_id)
        service.update_collection_metadata(session, collection_version_id=revision.id, name="Work in progress")
        revision_id = revision.id

    assert client.get(f"{API}/collections/{collection_id}").json()["revising_in"] is None
    assert client.get(f"{API}/collections/{collection_id}", headers=as_("owner")).json()["revising_in"] == revision_id
    assert client.get(f"{API}/collections/{revision_id}").status_code == 404
    as_owner = client.get(f"{API}/collections/{revision_id}", headers=as_("owner")).json()
    assert as_owner["collection_id"] == revision_id  # as CELLxGENE Discover exposes revisions
    assert as_owner["revision_of"] == collection_id
    assert as_owner["name"] == "Work in progress"
    assert [v["collection_version_id"] for v in client.get(f"{API}/collections/{collection_id}/versions").json()] == [
        published.id
    ]


def test_withdrawn_collection_answers_410_with_reason_and_date(client: TestClient, write) -> None:
    when = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    with write() as session:
        version = make_collection(session, datasets=1)
        collection_id, version_id = version.collection_id, version.id
        dataset_version = version.dataset_versions[0]
        service.withdraw_collection(session, collection_id=collection_id, reason="consent was revoked", now=when)

    for path in (
        f"/collections/{collection_id}",
        f"/collections/{version_id}",
        f"/collections/{collection_id}/versions",
        f"/collection_versions/{version_id}",
        f"/collections/{collection_id}/datasets/{dataset_version.dataset_id}",
        f"/datasets/{dataset_version.dataset_id}/versions",
        f"/dataset_versions/{dataset_version.id}",
    ):
        response = client.get(API + path)
        assert response.status_code == 410, path
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 410 and body["title"] == "Gone"
        assert "consent was revoked" in body["reason"]
        assert body["tombstoned_at"] == "2026-05-04T03:02:01+00:00"
    assert client.get(f"{API}/collections").json() == []
    assert client.get(f"{API}/datasets").json() == []


def test_dataset_within_a_collection(client: TestClient, write) -> None:
    with write() as session:
        version = make_collection(session, datasets=2)
        other = make_collection(session, datasets=1, name="Other")
        collection_id = version.collection_id
        wanted = version.dataset_versions[1]
        foreign = other.dataset_versions[0]

    for dataset_key in (wanted.dataset_id, wanted.id):
        response = client.get(f"{API}/collections/{collection_id}/datasets/{dataset_key}")
        assert response.status_code == 200
        assert (response.json()["dataset_version_id"], response.json()["title"]) == (wanted.id, "Dataset 2")
    assert client.get(f"{API}/collections/{collection_id}/datasets/{foreign.dataset_id}").status_code == 404


def test_collection_processing_status_reflects_its_datasets(client: TestClient, write) -> None:
    with write() as session:
        version = make_collection(session, published=False, datasets=1)
        service.create_dataset(session, collection_version_id=version.id)  # INITIALIZED, awaiting upload
        empty = service.create_collection(
            session, owner_id=OWNER, name="Empty", description="", contact_name="A", contact_email="a@example.org"
        )
        ids = version.collection_id, empty.collection_id

    assert client.get(f"{API}/collections/{ids[0]}", headers=as_("owner")).json()["processing_status"] == "PENDING"
    assert client.get(f"{API}/collections/{ids[1]}", headers=as_("owner")).json()["processing_status"] is None


def test_collections_filter_by_facets(client: TestClient, write) -> None:
    with write() as session:
        lung = make_collection(session, name="Lung")
        heart = service.create_collection(
            session, owner_id=OWNER, name="Heart", description="", contact_name="A", contact_email="a@example.org"
        )
        dataset = add_ready_dataset(session, heart, title="Heart cells")
        metadata = dict(dataset.dataset_metadata or {})
        metadata["tissue"] = [{"label": "heart", "ontology_term_id": "UBERON:0000948", "tissue_type": "tissue"}]
        metadata["organism"] = [{"label": "Mus musculus", "ontology_term_id": "NCBITaxon:10090"}]
        service.set_dataset_metadata(session, dataset_version_id=dataset.id, metadata=metadata)
        service.publish(session, collection_version_id=heart.id)
        lung_id, heart_id = lung.collection_id, heart.collection_id

    def names(**params: object) -> set[str]:
        return {c["collection_id"] for c in client.get(f"{API}/collections", params=params).json()}

    assert names() == {lung_id, heart_id}
    assert names(tissue="UBERON:0000948") == {heart_id}
    assert names(tissue="Lung") == {lung_id}  # labels match case-insensitively
    assert names(organism=["NCBITaxon:10090", "Homo sapiens"]) == {lung_id, heart_id}  # repeated: OR
    assert names(organism="Mus musculus", tissue="lung") == set()  # across facets: AND
    assert names(suspension_type="nucleus") == set()
