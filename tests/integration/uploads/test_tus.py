"""The tus 1.0.0 endpoints against the real app and server: creation, appending, resuming, limits, owners,
and what a finished upload becomes (a dataset version, its raw blob, a processing job)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import pytest

from cellportal.catalog.db import transaction
from cellportal.catalog.models import CollectionVersion, DatasetVersion, Job
from cellportal.catalog.statuses import ArtifactType, UploadStatus
from cellportal.uploads.staging import UploadArea
from tests.integration.uploads.conftest import MAX_BYTES, Server, as_, metadata

OCTETS = "application/offset+octet-stream"


def patch(
    server: Server, location: str, offset: int, body: bytes | Iterator[bytes], who: str = "owner", **headers: str
) -> httpx.Response:
    with server.client() as client:
        return client.patch(
            location,
            content=body,
            headers={**as_(who), "Content-Type": OCTETS, "Upload-Offset": str(offset), **headers},
        )


def head(server: Server, location: str, who: str = "owner") -> httpx.Response:
    with server.client() as client:
        return client.head(location, headers=as_(who))


def area(server: Server) -> UploadArea:
    return UploadArea(server.runtime.settings.work_dir / "uploads")


def test_options_describes_the_server(server: Server) -> None:
    with server.client() as client:
        response = client.options("/uploads/")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) >= {"creation", "termination", "checksum"}
    assert response.headers["Tus-Max-Size"] == str(MAX_BYTES)
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")


def test_create_then_head_reports_offset_zero(server: Server, start_upload: Callable[..., str]) -> None:
    location = start_upload(1000)
    assert location.startswith("/uploads/")
    response = head(server, location)
    assert response.status_code == 200
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Length"] == "1000"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Upload-Expires" in response.headers


def test_chunks_append_and_the_finished_file_becomes_a_dataset(
    server: Server, start_upload: Callable[..., str], private_version: str
) -> None:
    content = os.urandom(300_000)  # not HDF5: the pipeline will say so, which proves it ran on these bytes
    location = start_upload(len(content), filename="lung.h5ad")
    first = patch(server, location, 0, content[:100_000])
    assert first.status_code == 204, first.text
    assert first.headers["Upload-Offset"] == "100000"
    assert "Upload-Dataset-Version-Id" not in first.headers
    assert head(server, location).headers["Upload-Offset"] == "100000"

    last = patch(server, location, 100_000, content[100_000:])
    assert last.status_code == 204, last.text
    assert last.headers["Upload-Offset"] == str(len(content))
    version_id = last.headers["Upload-Dataset-Version-Id"]
    # A client that lost the last response asks HEAD: it learns the upload is complete, and what it became.
    assert head(server, location).headers["Upload-Dataset-Version-Id"] == version_id

    with transaction(server.runtime.sessions) as session:
        version = session.get(DatasetVersion, version_id)
        assert version is not None and version.original_filename == "lung.h5ad"
        raw = {artifact.type: artifact for artifact in version.artifacts}[ArtifactType.RAW_H5AD]
        assert raw.sha256 == hashlib.sha256(content).hexdigest() and raw.size == len(content)
        assert version.upload_status == UploadStatus.UPLOADED
        jobs = session.query(Job).filter_by(dataset_version_id=version_id).all()
        assert len(jobs) == 1
        collection = session.get(CollectionVersion, private_version)
        assert collection is not None
        assert version_id in {link.dataset_version_id for link in collection.dataset_links}
    blob = server.runtime.blobs.local_path(raw.sha256)
    assert blob is not None and hashlib.sha256(blob.read_bytes()).hexdigest() == raw.sha256
    assert not area(server).data_path(location.rsplit("/", 1)[1]).exists()  # moved out of the upload area

    jobs_runner = server.jobs()
    assert jobs_runner is not None and jobs_runner.wait(timeout=120)
    with server.client() as client:
        status = client.get(f"/portal/api/dataset-versions/{version_id}/status", headers=as_("owner")).json()
    assert status["finished"] is True
    assert status["processing_status"] == "VALIDATION_FAILURE"
    assert status["error_count"] >= 1 and "HDF5" in status["errors"][0]


def test_a_dropped_connection_keeps_the_bytes_that_arrived_and_the_upload_resumes(
    server: Server, start_upload: Callable[..., str]
) -> None:
    mib = 1024 * 1024
    content = os.urandom(5 * mib)
    location = start_upload(len(content))
    data_file = area(server).data_path(location.rsplit("/", 1)[1])
    sent = 3 * mib
    # A client that announces the whole file, sends part of it and disappears (a dropped network).
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        request = (
            f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer owner-token\r\n"
            f"Tus-Resumable: 1.0.0\r\nContent-Type: {OCTETS}\r\nUpload-Offset: 0\r\n"
            f"Content-Length: {len(content)}\r\n\r\n"
        ).encode()
        raw.sendall(request + content[:sent])
        deadline = time.monotonic() + 30
        while data_file.stat().st_size < 2 * mib:  # the server is writing what arrived
            assert time.monotonic() < deadline, "the server did not write the bytes it received"
            time.sleep(0.05)
    # The bytes the server had taken in when the connection went are kept and counted; the rest of what
    # was in flight may be lost (the client learns how much from HEAD).
    deadline = time.monotonic() + 30
    while (offset := int(head(server, location).headers["Upload-Offset"])) == 0:
        assert time.monotonic() < deadline, "the offset stayed 0 after the connection dropped"
        time.sleep(0.1)
    time.sleep(0.5)
    offset = int(head(server, location).headers["Upload-Offset"])  # settled: the request has ended
    assert 2 * mib <= offset <= sent
    assert data_file.read_bytes()[:offset] == content[:offset]

    resumed = patch(server, location, offset, content[offset:])
    assert resumed.status_code == 204, resumed.text
    version_id = resumed.headers["Upload-Dataset-Version-Id"]
    with transaction(server.runtime.sessions) as session:
        version = session.get(DatasetVersion, version_id)
        assert version is not None
        raw_artifact = {a.type: a for a in version.artifacts}[ArtifactType.RAW_H5AD]
        assert raw_artifact.sha256 == hashlib.sha256(content).hexdigest()


def test_an_offset_that_does_not_match_is_409_and_changes_nothing(
    server: Server, start_upload: Callable[..., str]
) -> None:
    location = start_upload(1000)
    assert patch(server, location, 0, b"a" * 400).status_code == 204
    stale = patch(server, location, 0, b"b" * 400)  # a client that missed the first response
    assert stale.status_code == 409
    assert stale.headers["Upload-Offset"] == "400"
    assert "HEAD" in stale.json()["detail"]
    assert head(server, location).headers["Upload-Offset"] == "400"
    assert area(server).data_path(location.rsplit("/", 1)[1]).read_bytes() == b"a" * 400


def test_termination_deletes_the_upload(server: Server, start_upload: Callable[..., str]) -> None:
    location = start_upload(1000)
    patch(server, location, 0, b"x" * 10)
    upload_id = location.rsplit("/", 1)[1]
    with server.client() as client:
        assert client.delete(location, headers=as_("owner")).status_code == 204
    assert head(server, location).status_code == 404
    assert not area(server).folder(upload_id).exists()
    assert patch(server, location, 10, b"y").status_code == 404


def test_size_limits(server: Server, start_upload: Callable[..., str], private_version: str) -> None:
    with server.client() as client:
        too_big = client.post(
            "/uploads/",
            headers={
                **as_("owner"),
                "Upload-Length": str(MAX_BYTES + 1),
                "Upload-Metadata": metadata(filename="big.h5ad", collection_version_id=private_version),
            },
        )
    assert too_big.status_code == 413
    assert "CELLPORTAL_UPLOAD_MAX_BYTES" in too_big.json()["detail"]
    location = start_upload(100)
    overflow = patch(server, location, 0, b"z" * 150)
    assert overflow.status_code == 413
    assert head(server, location).headers["Upload-Offset"] == "0"


def test_only_the_creator_sees_or_touches_an_upload(server: Server, start_upload: Callable[..., str]) -> None:
    location = start_upload(100)
    assert head(server, location, who="stranger").status_code == 404
    assert patch(server, location, 0, b"q" * 10, who="stranger").status_code == 404
    with server.client() as client:
        assert client.delete(location, headers=as_("stranger")).status_code == 404
        assert client.head(location, headers={"Tus-Resumable": "1.0.0"}).status_code == 404  # anonymous
    assert head(server, location).headers["Upload-Offset"] == "0"


def test_creation_needs_edit_rights_on_an_unpublished_version(server: Server, private_version: str) -> None:
    def create(who: str, version_id: str) -> httpx.Response:
        with server.client() as client:
            return client.post(
                "/uploads/",
                headers={
                    **as_(who),
                    "Upload-Length": "10",
                    "Upload-Metadata": metadata(filename="a.h5ad", collection_version_id=version_id),
                },
            )

    assert create("stranger", private_version).status_code == 404  # private: not even its existence
    anonymous = httpx.post(
        f"{server.base_url}/uploads/",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "10",
            "Upload-Metadata": metadata(filename="a.h5ad", collection_version_id=private_version),
        },
    )
    assert anonymous.status_code in (401, 403)  # 403: the CSRF check of cookie-less form posts comes first
    assert create("admin", private_version).status_code == 201
    with transaction(server.runtime.sessions) as session:
        from cellportal.catalog import service

        service.publish(session, collection_version_id=private_version)
    published = create("owner", private_version)
    assert published.status_code == 422
    assert "revision" in published.json()["detail"]
    assert create("stranger", private_version).status_code == 403  # public now, but not theirs to change


@pytest.mark.parametrize(
    ("filename", "headers", "status", "words"),
    [
        ("cells.csv", {}, 400, ".h5ad"),
        ("a.h5ad", {"Upload-Length": "0"}, 400, "empty"),
        (None, {"Upload-Metadata": "filename not-base64!"}, 400, "base64"),
        ("a.h5ad", {"Upload-Length": "-5"}, 400, "non-negative"),
        ("a.h5ad", {"Tus-Resumable": "0.2.2"}, 412, "1.0.0"),
        ("a.h5ad", {"Upload-Defer-Length": "1"}, 400, "Upload-Length"),
    ],
)
def test_bad_creation_requests_say_what_is_wrong(
    server: Server, private_version: str, filename: str | None, headers: dict[str, str], status: int, words: str
) -> None:
    base = {**as_("owner"), "Upload-Length": "10"}
    if filename is not None:
        base["Upload-Metadata"] = metadata(filename=filename, collection_version_id=private_version)
    with server.client() as client:
        response = client.post("/uploads/", headers={**base, **headers})
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert not list(area(server).ids())


def test_patch_needs_the_offset_content_type(server: Server, start_upload: Callable[..., str]) -> None:
    location = start_upload(10)
    response = patch(server, location, 0, b"0123456789", **{"Content-Type": "application/octet-stream"})
    assert response.status_code == 415
    assert head(server, location).headers["Upload-Offset"] == "0"


def test_checksums_accept_good_chunks_and_discard_damaged_ones(
    server: Server, start_upload: Callable[..., str]
) -> None:
    location = start_upload(20)
    chunk = b"0123456789"
    good = "sha1 " + base64.b64encode(hashlib.sha1(chunk).digest()).decode()
    bad = "sha1 " + base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    damaged = patch(server, location, 0, chunk, **{"Upload-Checksum": bad})
    assert damaged.status_code == 460
    assert head(server, location).headers["Upload-Offset"] == "0"
    assert patch(server, location, 0, chunk, **{"Upload-Checksum": good}).status_code == 204
    assert head(server, location).headers["Upload-Offset"] == "10"
    unknown = patch(server, location, 10, chunk, **{"Upload-Checksum": "crc32 AAAA"})
    assert unknown.status_code == 400


def test_a_second_writer_is_told_to_wait(server: Server, start_upload: Callable[..., str]) -> None:
    location = start_upload(10)
    upload_id = location.rsplit("/", 1)[1]
    with area(server).locked(upload_id):  # as a PATCH in progress holds it
        busy = patch(server, location, 0, b"0123456789")
    assert busy.status_code == 423
    assert patch(server, location, 0, b"0123456789").status_code == 204


@pytest.mark.parametrize("settings_overrides", [{"upload_max_bytes": 1 << 30}])
def test_a_large_body_is_streamed_to_disk_not_held_in_memory(server: Server, start_upload: Callable[..., str]) -> None:
    size = 64 * 1024 * 1024
    location = start_upload(size + 1)  # one byte short of complete: measure the transfer, not the hand-off
    piece = os.urandom(1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(size // len(piece)):
            yield piece

    tracemalloc.start()  # traces every thread of this process: the server's too
    try:
        with httpx.Client(base_url=server.base_url, timeout=600) as client:
            response = client.patch(
                location,
                content=body(),
                headers={**as_("owner"), "Content-Type": OCTETS, "Upload-Offset": "0", "Content-Length": str(size)},
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 204, response.text
    assert response.headers["Upload-Offset"] == str(size)
    assert peak < 24 * 1024 * 1024, f"peak Python memory {peak / 1e6:.0f} MB while receiving {size / 1e6:.0f} MB"
