"""GET /curation/v1/datasets..., dataset versions and processing statuses, on a real catalog."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cellportal.catalog import service
from cellportal.catalog.statuses import ProcessingStatus, ValidationStatus
from tests.fixtures.builders import add_ready_dataset, make_collection, make_ready
from tests.integration.api.conftest import PUBLIC_URL, as_

API = "/curation/v1"


def test_index_lists_current_published_versions_with_collection_fields(client: TestClient, write) -> None:
    with write() as session:
        version = make_collection(session, datasets=2)
        make_collection(session, published=False, name="Private")
        collection_id, version_id = version.collection_id, version.id
        dataset_version_ids = {dv.id for dv in version.dataset_versions}

    listed = client.get(f"{API}/datasets").json()

    assert {d["dataset_version_id"] for d in listed} == dataset_version_ids
    entry = listed[0]
    assert (entry["collection_id"], entry["collection_version_id"]) == (collection_id, version_id)
    assert (entry["collection_name"], entry["collection_doi"]) == ("A lung atlas", "10.1000/cellportal.test")
    assert entry["visibility"] == "PUBLIC" and entry["processing_status"] == "SUCCESS"
    assert entry["is_primary_data"] == [True]
    assert entry["tissue"][0] == {"label": "lung", "ontology_term_id": "UBERON:0002048", "tissue_type": "tissue"}
    assert {a["filetype"] for a in entry["assets"]} == {"H5AD", "RDS", "LOOM"}  # raw upload and explorer not listed
    h5ad = next(a for a in entry["assets"] if a["filetype"] == "H5AD")
    assert h5ad["url"] == f"{PUBLIC_URL}/datasets/{entry['dataset_version_id']}.h5ad"
    assert len(h5ad["sha256"]) == 64 and h5ad["filesize"] > 0
    assert entry["explorer_url"] == f"{PUBLIC_URL}/e/{entry['dataset_id']}/"


def test_index_filters_by_schema_version_and_facets(client: TestClient, write) -> None:
    with write() as session:
        old = make_collection(session, datasets=1, schema_version="5.3.0")
        new = make_collection(session, datasets=1, schema_version="7.1.0")
        old_id, new_id = old.dataset_versions[0].id, new.dataset_versions[0].id

    def ids(**params: object) -> set[str]:
        response = client.get(f"{API}/datasets", params=params)
        assert response.status_code == 200, response.text
        return {d["dataset_version_id"] for d in response.json()}

    assert ids(schema_version="5") == {old_id}
    assert ids(schema_version="7.1") == {new_id}
    assert ids(schema_version="7.1.0") == {new_id}
    assert ids(schema_version="7.2") == set()
    assert ids(cell_type="CL:0000084") == {old_id, new_id}
    assert ids(disease="COVID-19") == set()
    assert ids(sex="female", assay="10x 3' v3", development_stage=[]) == {old_id, new_id}
    bad = client.get(f"{API}/datasets", params={"schema_version": "latest"})
    assert bad.status_code == 400
    assert bad.json()["invalid_parameters"][0]["name"] == "schema_version"


def test_dataset_versions_history_and_first_publication(client: TestClient, write) -> None:
    with write() as session:
        first = make_collection(session, datasets=1)
        dataset = first.dataset_versions[0]
        revision = service.start_revision(session, collection_id=first.collection_id)
        replacement = service.replace_dataset(session, collection_version_id=revision.id, dataset_id=dataset.dataset_id)
        make_ready(session, replacement, title="Dataset 1, corrected")
        service.publish(session, collection_version_id=revision.id)
        ids = (dataset.dataset_id, dataset.id, replacement.id, first.id, revision.id)
    dataset_id, old_version, new_version, first_cv, second_cv = ids

    history = client.get(f"{API}/datasets/{dataset_id}/versions").json()
    assert [v["dataset_version_id"] for v in history] == [new_version, old_version]
    assert [v["collection_version_id"] for v in history] == [second_cv, first_cv]
    assert client.get(f"{API}/datasets/{old_version}/versions").json() == history  # a version id works too
    old = client.get(f"{API}/dataset_versions/{old_version}").json()
    assert (old["title"], old["collection_version_id"]) == ("Dataset 1", first_cv)
    latest = client.get(f"{API}/dataset_versions/{dataset_id}").json()  # canonical id: latest published
    assert latest["title"] == "Dataset 1, corrected"
    assert latest["published_at"] is not None


def test_processing_failures_are_reported_as_the_curation_api_does(client: TestClient, write) -> None:
    with write() as session:
        version = make_collection(session, published=False, datasets=0)
        invalid = service.create_dataset(session, collection_version_id=version.id)
        service.set_dataset_status(
            session,
            dataset_version_id=invalid.id,
            processing_status=ProcessingStatus.FAILURE,
            validation_status=ValidationStatus.INVALID,
            validation_errors=[{"code": "obs.missing", "message": "Column 'sex_ontology_term_id' is missing."}],
        )
        broken = add_ready_dataset(session, version)
        service.set_dataset_status(
            session,
            dataset_version_id=broken.id,
            processing_status=ProcessingStatus.FAILURE,
            failure_reason="The loom conversion ran out of disk space.",
        )
        pending = service.create_dataset(session, collection_version_id=version.id)
        collection_id, statuses = version.collection_id, {invalid.id: 0, broken.id: 1, pending.id: 2}

    body = client.get(f"{API}/collections/{collection_id}", headers=as_("owner")).json()
    by_id = {d["dataset_version_id"]: d for d in body["datasets"]}
    invalid_id, broken_id, pending_id = statuses
    assert by_id[invalid_id]["processing_status"] == "VALIDATION_FAILURE"
    assert by_id[invalid_id]["processing_status_detail"] == "Column 'sex_ontology_term_id' is missing."
    assert by_id[broken_id]["processing_status"] == "PIPELINE_FAILURE"
    assert by_id[broken_id]["processing_status_detail"] == "The loom conversion ran out of disk space."
    assert by_id[pending_id]["processing_status"] == "INITIALIZED"
    assert body["processing_status"] == "PENDING"
    private = client.get(f"{API}/datasets", params={"visibility": "PRIVATE"}, headers=as_("owner")).json()
    assert {d["dataset_version_id"] for d in private} == set(statuses)
    assert {d["visibility"] for d in private} == {"PRIVATE"}
    assert client.get(f"{API}/dataset_versions/{invalid_id}").status_code == 404
    assert client.get(f"{API}/dataset_versions/{invalid_id}", headers=as_("owner")).status_code == 200


def test_removed_dataset_answers_410_and_its_collection_lives_on(client: TestClient, write) -> None:
    with write() as session:
        version = make_collection(session, datasets=2)
        kept, dropped = version.dataset_versions
        revision = service.start_revision(session, collection_id=version.collection_id)
        service.remove_dataset(session, collection_version_id=revision.id, dataset_id=dropped.dataset_id)
        service.publish(session, collection_version_id=revision.id)
        collection_id, first_cv = version.collection_id, version.id

    for path in (f"/dataset_versions/{dropped.id}", f"/datasets/{dropped.dataset_id}/versions"):
        gone = client.get(API + path)
        assert gone.status_code == 410
        assert "removed" in gone.json()["reason"]
    assert client.get(f"{API}/collections/{collection_id}/datasets/{dropped.dataset_id}").status_code == 410
    assert [d["dataset_id"] for d in client.get(f"{API}/collections/{collection_id}").json()["datasets"]] == [
        kept.dataset_id
    ]
    assert client.get(f"{API}/collection_versions/{first_cv}").status_code == 200  # history stays readable
    assert client.get(f"{API}/collections/{first_cv}/datasets/{dropped.dataset_id}").status_code == 410
    assert {d["dataset_id"] for d in client.get(f"{API}/datasets").json()} == {kept.dataset_id}


def test_private_index_marks_revisions_of_published_datasets(client: TestClient, write) -> None:
    with write() as session:
        published = make_collection(session, datasets=1)
        dataset = published.dataset_versions[0]
        revision = service.start_revision(session, collection_id=published.collection_id)
        replacement = service.replace_dataset(session, collection_version_id=revision.id, dataset_id=dataset.dataset_id)
        make_ready(session, replacement, title="Dataset 1, corrected")
        collection_id = published.collection_id

    private = client.get(f"{API}/datasets", params={"visibility": "PRIVATE"}, headers=as_("owner")).json()
    assert [(d["dataset_version_id"], d["visibility"]) for d in private] == [(replacement.id, "PRIVATE")]
    assert private[0]["revision_of_dataset"] == dataset.dataset_id
    assert private[0]["revision_of_collection"] == collection_id
    assert client.get(f"{API}/datasets", params={"visibility": "PRIVATE"}, headers=as_("stranger")).json() == []
    public = client.get(f"{API}/datasets").json()
    assert [d["dataset_version_id"] for d in public] == [dataset.id]  # the published version until the revision is
