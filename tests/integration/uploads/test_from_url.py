"""Upload from a URL: the URL is checked, a dataset version records it, and the pipeline downloads it."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from cellportal.auth import sharing
from cellportal.auth.policy import CollaboratorRole
from cellportal.catalog.db import transaction
from cellportal.catalog.models import DatasetVersion
from cellportal.catalog.statuses import ArtifactType
from tests.conftest import free_port
from tests.fixtures.builders import make_collection
from tests.integration.uploads.conftest import Server, as_

ENDPOINT = "/portal/api/uploads/from-url"


def add_from_url(server: Server, version_id: str, url: str, who: str = "owner") -> httpx.Response:
    with server.client() as client:
        return client.post(ENDPOINT, json={"collection_version_id": version_id, "url": url}, headers=as_(who))


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``/redirect?to=<url>`` answers 302 to that URL. Records each request's Host header."""

    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Handler.hosts.append(self.headers.get("Host", ""))
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", urllib.parse.parse_qs(parts.query)["to"][0])
            self.end_headers()
            return
        super().do_GET()


@contextlib.contextmanager
def serving_folder(host: str, folder: Path) -> Iterator[str]:
    """A plain HTTP server (the standard library's) publishing `folder`: the outside world, here."""
    httpd = http.server.ThreadingHTTPServer((host, free_port()), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "published"
    folder.mkdir()
    with serving_folder("127.0.0.1", folder) as base_url:
        yield base_url, folder


# The file server is on 127.0.0.1: the one non-public address these tests allow.
LOCAL_FILE_SERVER = {"upload_url_allow_http": True, "upload_url_private_networks": "127.0.0.1/32"}


def wait_for_status(server: Server, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    jobs = server.jobs()
    assert jobs is not None and jobs.wait(timeout=120)
    with server.client() as client:
        status: dict[str, Any] = client.get(response.json()["status_url"], headers=as_("owner")).json()
    return status


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "Only https://"),
        ("ftp://example.org/a.h5ad", "Only https://"),
        ("http://example.org/a.h5ad", "Only https://"),  # plain http is off unless the operator allows it
        ("https:///a.h5ad", "no host"),
        ("https://user:secret@example.org/a.h5ad", "password"),
        ("", "URL"),
        # Not on the public internet: the server must not be made to fetch from itself or its network.
        ("https://127.0.0.1/a.h5ad", "127.0.0.1 is a loopback address"),
        ("https://localhost:8443/a.h5ad", "localhost is a loopback address"),
        ("https://[::1]/a.h5ad", "a loopback address"),
        ("https://[::ffff:127.0.0.1]/a.h5ad", "a loopback address"),
        ("https://169.254.169.254/latest/meta-data/a.h5ad", "a link-local address"),
        ("https://10.0.0.8/a.h5ad", "a private or reserved address"),
        ("https://0.0.0.0/a.h5ad", "a private or reserved address"),
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


@pytest.mark.parametrize("settings_overrides", [LOCAL_FILE_SERVER])
@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("other user", 404), ("viewer", 403), ("editor", 201), ("owner", 201), ("admin", 201)],
)
def test_only_editors_add_from_a_url(
    server: Server, private_version: str, callers: dict[str, dict[str, str]], who: str, status: int
) -> None:
    """The authorization matrix relies on this test for this route (route_expectations.py, covered_by)."""
    url = f"http://127.0.0.1:{free_port()}/a.h5ad"  # allowed, never answers: the job fails, no matter
    with transaction(server.runtime.sessions) as session:
        published_version = make_collection(session, published=True, datasets=1)
        for role in CollaboratorRole:
            sharing.add_collaborator(session, published_version.collection_id, role.value, role, added_by=None)
        published_version_id = published_version.id
    with server.client() as client:
        response = client.post(
            ENDPOINT, json={"collection_version_id": private_version, "url": url}, headers=callers[who]
        )
        assert response.status_code == status, response.text
        # Published versions never change, for anyone: a revision takes the new dataset.
        body = {"collection_version_id": published_version_id, "url": url}
        published = client.post(ENDPOINT, json=body, headers=callers[who])
    assert published.status_code == {"anonymous": 401, "other user": 403, "viewer": 403}.get(who, 409), published.text


@pytest.mark.parametrize("settings_overrides", [LOCAL_FILE_SERVER])
def test_the_pipeline_downloads_the_file(server: Server, private_version: str, file_server: tuple[str, Path]) -> None:
    base_url, folder = file_server
    content = os.urandom(250_000)  # not HDF5: stored as the original, then refused by validation
    (folder / "kidney.h5ad").write_bytes(content)
    response = add_from_url(server, private_version, f"{base_url}/kidney.h5ad")
    status = wait_for_status(server, response)
    version_id = response.json()["dataset_version_id"]
    assert response.json()["status_url"] == f"/portal/api/dataset-versions/{version_id}/status"
    assert status["finished"] and status["processing_status"] == "VALIDATION_FAILURE"
    assert status["source_uri"] == f"{base_url}/kidney.h5ad"
    with transaction(server.runtime.sessions) as session:
        version = session.get(DatasetVersion, version_id)
        assert version is not None and version.original_filename == "kidney.h5ad"
        raw = {a.type: a for a in version.artifacts}[ArtifactType.RAW_H5AD]
        assert raw.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("settings_overrides", [LOCAL_FILE_SERVER])
def test_a_url_that_does_not_answer_fails_the_dataset_with_the_reason(
    server: Server, private_version: str, file_server: tuple[str, Path]
) -> None:
    base_url, _ = file_server
    status = wait_for_status(server, add_from_url(server, private_version, f"{base_url}/missing.h5ad"))
    assert status["processing_status"] == "PIPELINE_FAILURE"
    assert "404" in " ".join(status["errors"])


@pytest.mark.parametrize("settings_overrides", [LOCAL_FILE_SERVER])
def test_redirects_are_followed_within_what_is_allowed(
    server: Server, private_version: str, file_server: tuple[str, Path]
) -> None:
    base_url, folder = file_server
    content = os.urandom(1000)
    (folder / "kidney.h5ad").write_bytes(content)
    moved = f"{base_url}/redirect?to=/kidney.h5ad"  # a relative Location
    status = wait_for_status(server, add_from_url(server, private_version, moved))
    assert status["processing_status"] == "VALIDATION_FAILURE"  # downloaded: not HDF5
    assert status["artifacts"][0]["type"] == ArtifactType.RAW_H5AD


@pytest.mark.parametrize("settings_overrides", [LOCAL_FILE_SERVER])
def test_a_redirect_to_a_refused_address_fails_the_dataset(
    server: Server, private_version: str, file_server: tuple[str, Path]
) -> None:
    """Every hop is checked: 127.0.0.1 is allowed here but 127.0.0.2 is not, and it really serves the file,
    so a download that followed the redirect unchecked would succeed (and validation would then fail)."""
    base_url, folder = file_server
    (folder / "kidney.h5ad").write_bytes(os.urandom(1000))
    with serving_folder("127.0.0.2", folder) as elsewhere:
        moved = f"{base_url}/redirect?to=" + urllib.parse.quote(f"{elsewhere}/kidney.h5ad", safe="")
        status = wait_for_status(server, add_from_url(server, private_version, moved))
    assert status["processing_status"] == "PIPELINE_FAILURE"
    assert "127.0.0.2 is a loopback address" in " ".join(status["errors"])
    assert status["artifacts"] == []


@pytest.mark.parametrize("settings_overrides", [LOCAL_FILE_SERVER])
def test_endless_redirects_fail_the_dataset(
    server: Server, private_version: str, file_server: tuple[str, Path]
) -> None:
    base_url, _ = file_server
    url = f"{base_url}/kidney.h5ad"
    for _ in range(6):
        url = f"{base_url}/redirect?to=" + urllib.parse.quote(url, safe="")
    status = wait_for_status(server, add_from_url(server, private_version, url))
    assert status["processing_status"] == "PIPELINE_FAILURE"
    assert "more than 5 redirects" in " ".join(status["errors"])


def test_the_download_connects_to_the_address_that_was_checked(file_server: tuple[str, Path], tmp_path: Path) -> None:
    """No second DNS lookup (rebinding): the name resolves only through the checked resolver, here to the
    file server's 127.0.0.1; `.invalid` names resolve nowhere else, so a download that looked the name up
    again itself would fail. The server still sees the name in its Host header, redirects included."""
    from cellportal.jobs.pipeline import fetch_source
    from cellportal.uploads.rules import UrlPolicy, parse_networks

    base_url, folder = file_server
    content = os.urandom(5000)
    (folder / "kidney.h5ad").write_bytes(content)
    port = urllib.parse.urlsplit(base_url).port
    named = f"http://files.example.invalid:{port}"
    looked_up: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    policy = UrlPolicy(allow_http=True, private_networks=parse_networks("127.0.0.1/32"))
    Handler.hosts.clear()
    out = fetch_source(f"{named}/redirect?to=/kidney.h5ad", tmp_path / "got.h5ad", policy, resolve=resolve)

    assert out.read_bytes() == content
    assert looked_up == ["files.example.invalid", "files.example.invalid"]  # the URL, then its redirect
    assert Handler.hosts == [f"files.example.invalid:{port}"] * 2


def test_a_download_larger_than_an_upload_may_be_is_refused(file_server: tuple[str, Path], tmp_path: Path) -> None:
    from cellportal.jobs.pipeline import PipelineError, fetch_source
    from cellportal.uploads.rules import UrlPolicy, parse_networks

    base_url, folder = file_server
    (folder / "big.h5ad").write_bytes(os.urandom(3 << 20))  # 3 MiB, more than one chunk
    allowed = parse_networks("127.0.0.1/32")
    small = UrlPolicy(allow_http=True, private_networks=allowed, max_bytes=2 << 20)
    with pytest.raises(PipelineError, match="larger than the 2,097,152 bytes"):
        fetch_source(f"{base_url}/big.h5ad", tmp_path / "got.h5ad", small)
    enough = UrlPolicy(allow_http=True, private_networks=allowed, max_bytes=3 << 20)
    assert fetch_source(f"{base_url}/big.h5ad", tmp_path / "got.h5ad", enough).stat().st_size == 3 << 20
