"""Our Discover API against the CELLxGENE Discover Curation API contract (curation-api.yml, vendored here).

For each read operation of the contract: our path answers, its JSON validates against the operation's
response schema, and it holds no field the spec does not name. Our documented additions, and nothing else:
- `sha256` on each asset (the permanent file's content hash);
- `LOOM` as an asset file type (the spec lists H5AD and RDS).
Error bodies are checked against the spec's problem schema and content type.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cellportal.catalog import service
from tests.contract.openapi_schema import load_spec, response_schema, undeclared_keys, validator
from tests.fixtures.builders import add_ready_dataset, make_collection, make_ready
from tests.integration.api.conftest import as_

ADDED_FIELDS = {"sha256"}
ADDED_FILETYPES = ["LOOM"]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    spec = load_spec()
    enum = spec["components"]["schemas"]["asset_filetype"]["enum"]
    spec["components"]["schemas"]["asset_filetype"]["enum"] = [*enum, *ADDED_FILETYPES]
    return spec


@pytest.fixture
def catalog(write, put_blob) -> dict[str, str]:
    """Published history (two versions, a replaced and a removed dataset), an open revision, a private collection."""
    with write() as session:
        first = make_collection(session, datasets=2, put_blob=put_blob)
        replaced, removed = first.dataset_versions
        revision = service.start_revision(session, collection_id=first.collection_id)
        replacement = service.replace_dataset(
            session, collection_version_id=revision.id, dataset_id=replaced.dataset_id
        )
        make_ready(session, replacement, put_blob=put_blob)
        service.remove_dataset(session, collection_version_id=revision.id, dataset_id=removed.dataset_id)
        service.publish(session, collection_version_id=revision.id)
        open_revision = service.start_revision(session, collection_id=first.collection_id)
        add_ready_dataset(session, open_revision, put_blob=put_blob)
        private = make_collection(session, published=False, datasets=1, name="Private")
        ids = {
            "collection_id": first.collection_id,
            "collection_version_id": first.id,
            "dataset_id": replaced.dataset_id,
            "dataset_version_id": replaced.id,
            "removed_dataset_version_id": removed.id,
            "private_collection_id": private.collection_id,
        }
    return ids


OPERATIONS = [
    ("/v1/collections", "/collections", {}),
    ("/v1/collections", "/collections", {"visibility": "PRIVATE"}),
    ("/v1/collections/{collection_id}", "/collections/{collection_id}", {}),
    ("/v1/collections/{collection_id}", "/collections/{private_collection_id}", {}),
    ("/v1/collections/{collection_id}/versions", "/collections/{collection_id}/versions", {}),
    ("/v1/collection_versions/{collection_version_id}", "/collection_versions/{collection_version_id}", {}),
    (
        "/v1/collections/{collection_id}/datasets/{dataset_id}",
        "/collections/{collection_id}/datasets/{dataset_id}",
        {},
    ),
    ("/v1/datasets", "/datasets", {}),
    ("/v1/datasets", "/datasets", {"visibility": "PRIVATE"}),
    ("/v1/datasets/{dataset_id}/versions", "/datasets/{dataset_id}/versions", {}),
    ("/v1/dataset_versions/{dataset_version_id}", "/dataset_versions/{dataset_version_id}", {}),
]


def test_read_operations_match_the_contract(client: TestClient, catalog: dict[str, str], spec: dict[str, Any]) -> None:
    # One catalog for every operation (building it is the slow part); each failure names its operation.
    failures: dict[str, list[str]] = {}
    for spec_path, our_path, params in OPERATIONS:
        label = f"{our_path} {params}"
        response = client.get("/curation/v1" + our_path.format(**catalog), params=params, headers=as_("owner"))
        if response.status_code != 200 or response.headers["content-type"] != "application/json":
            failures[label] = [f"{response.status_code} {response.headers['content-type']}: {response.text[:200]}"]
            continue
        body = response.json()
        schema = response_schema(spec, spec_path, "200")
        check = validator(spec, schema)
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(body)]
        problems += [
            f"undeclared field {key}"
            for key in undeclared_keys(spec, body, schema)
            if key.rsplit(".", 1)[-1] not in ADDED_FIELDS
        ]
        if not body:
            problems.append("empty answer: it would prove nothing")
        if problems:
            failures[label] = problems
    assert failures == {}


def test_error_bodies_follow_the_problem_schema(client: TestClient, catalog: dict[str, str], spec) -> None:
    # A private collection is 404 to others (the spec says 403): its existence must not leak.
    cases = [
        (f"/collections/{catalog['private_collection_id']}", "404", {}),
        (f"/dataset_versions/{catalog['removed_dataset_version_id']}", "410", {}),
        ("/datasets", "400", {"schema_version": "x.y"}),
        ("/collections", "401", {"visibility": "PRIVATE"}),
    ]
    for our_path, status, params in cases:
        response = client.get("/curation/v1" + our_path, params=params)
        assert str(response.status_code) == status, our_path
        assert response.headers["content-type"] == "application/problem+json"
        schema = spec["components"]["responses"][status]["content"]["application/problem+json"]["schema"]
        assert list(validator(spec, schema).iter_errors(response.json())) == []
        assert {"type", "title", "detail"} <= set(response.json())


def test_our_openapi_document_offers_every_read_operation(client: TestClient, spec: dict[str, Any]) -> None:
    ours = client.get("/openapi.json").json()["paths"]

    for spec_path, _, _ in OPERATIONS:
        assert "get" in ours["/curation" + spec_path], spec_path
    assert client.get("/docs").status_code == 200
