"""GET /portal/api/dataset-versions/<id>/status: what a status row shows, and only to those who may read it."""

from __future__ import annotations

import httpx

from cellportal.catalog import service
from cellportal.catalog.db import transaction
from cellportal.catalog.models import CollectionVersion
from tests.integration.uploads.conftest import Server, as_


def dataset_version_of(server: Server, collection_version_id: str) -> str:
    with transaction(server.runtime.sessions) as session:
        version = session.get(CollectionVersion, collection_version_id)
        assert version is not None
        return version.dataset_links[0].dataset_version_id


def status(server: Server, version_id: str, who: str | None = "owner") -> httpx.Response:
    headers = as_(who) if who else {}
    with server.client() as client:
        return client.get(f"/portal/api/dataset-versions/{version_id}/status", headers=headers)


def test_a_processed_dataset_reads_finished(server: Server, private_version: str) -> None:
    version_id = dataset_version_of(server, private_version)
    response = status(server, version_id)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["dataset_version_id"] == version_id
    assert body["processing_status"] == "SUCCESS" and body["finished"] is True
    assert body["upload_status"] == "UPLOADED" and body["validation_status"] == "VALID"
    assert body["error_count"] == 0 and body["errors"] == []
    types = [artifact["type"] for artifact in body["artifacts"]]
    assert types[0] == "raw_h5ad" and set(types) == {"raw_h5ad", "h5ad", "explorer", "rds", "loom"}
    assert all(artifact["status"] == "CONVERTED" for artifact in body["artifacts"])


def test_private_status_is_404_to_everyone_else(server: Server, private_version: str) -> None:
    version_id = dataset_version_of(server, private_version)
    assert status(server, version_id, who="stranger").status_code == 404
    assert status(server, version_id, who=None).status_code == 404
    assert status(server, version_id, who="admin").status_code == 200
    assert status(server, "no-such-version").status_code == 404


def test_published_status_is_public(server: Server, private_version: str) -> None:
    with transaction(server.runtime.sessions) as session:
        service.publish(session, collection_version_id=private_version)
    version_id = dataset_version_of(server, private_version)
    assert status(server, version_id, who=None).status_code == 200
