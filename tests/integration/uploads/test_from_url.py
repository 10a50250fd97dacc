"""Upload from a URL: the URL is checked, a dataset version records it, and the pipeline downloads it."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cellportal.catalog.db import transaction
from cellportal.catalog.models import DatasetVersion
from cellportal.catalog.statuses import ArtifactType
from tests.conftest import free_port
from tests.integration.uploads.conftest import Server, as_

ENDPOINT = "/portal/api/uploads/from-url"


def add_from_url(server: Server, version_id: str, url: str, who: str = "owner") -> httpx.Response:
    with server.client() as client:
        return client.post(ENDPOINT, json={"collection_version_id": version_id, "url": url}, headers=as_(who))


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain HTTP server (the standard library's) publishing one folder: the outside world, here."""
    folder = tmp_path / "published"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "Only https://"),
        ("ftp://example.org/a.h5ad", "Only https://"),
        ("http://example.org/a.h5ad", "Only https://"),  # plain http is off unless the operator allows it
        ("https:///a.h5ad", "no host"),
        ("https://user:secret@example.org/a.h5ad", "password"),
        ("", "URL"),
    ],
)
def test_unsupported_urls_are_refused_and_nothing_is_created(
    server: Server, private_version: str, url: str, words: str
) -> None:
    response = add_from_url(server, private_version, url)
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]
    with transaction(server.runtime.sessions) as session:
        assert session.query(DatasetVersion).filter(DatasetVersion.source_uri.is_not(None)).count() == 0


def test_only_editors_add_from_a_url(server: Server, private_version: str) -> None:
    assert add_from_url(server, private_version, "https://example.org/a.h5ad", who="stranger").status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"upload_url_allow_http": True}])
def test_the_pipeline_downloads_the_file(server: Server, private_version: str, file_server: tuple[str, Path]) -> None:
    base_url, folder = file_server
    content = os.urandom(250_000)  # not HDF5: stored as the original, then refused by validation
    (folder / "kidney.h5ad").write_bytes(content)
    response = add_from_url(server, private_version, f"{base_url}/kidney.h5ad")
    assert response.status_code == 201, response.text
    created = response.json()
    version_id = created["dataset_version_id"]
    assert created["status_url"] == f"/portal/api/dataset-versions/{version_id}/status"

    jobs = server.jobs()
    assert jobs is not None and jobs.wait(timeout=120)
    with server.client() as client:
        status = client.get(created["status_url"], headers=as_("owner")).json()
    assert status["finished"] and status["processing_status"] == "VALIDATION_FAILURE"
    assert status["source_uri"] == f"{base_url}/kidney.h5ad"
    with transaction(server.runtime.sessions) as session:
        version = session.get(DatasetVersion, version_id)
        assert version is not None and version.original_filename == "kidney.h5ad"
        raw = {a.type: a for a in version.artifacts}[ArtifactType.RAW_H5AD]
        assert raw.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("settings_overrides", [{"upload_url_allow_http": True}])
def test_a_url_that_does_not_answer_fails_the_dataset_with_the_reason(
    server: Server, private_version: str, file_server: tuple[str, Path]
) -> None:
    base_url, _ = file_server
    response = add_from_url(server, private_version, f"{base_url}/missing.h5ad")
    assert response.status_code == 201
    jobs = server.jobs()
    assert jobs is not None and jobs.wait(timeout=120)
    with server.client() as client:
        status = client.get(response.json()["status_url"], headers=as_("owner")).json()
    assert status["processing_status"] == "PIPELINE_FAILURE"
    assert "404" in " ".join(status["errors"])
