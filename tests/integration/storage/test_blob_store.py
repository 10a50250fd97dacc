"""The blob store contract, on a real directory and a real S3 server (seaweedfs)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import httpx
import pytest

from cellportal.storage import BlobNotFoundError, BlobStore

pytestmark = pytest.mark.filterwarnings("error")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_put_file_returns_sha256_and_size_and_reads_back(blob_store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    info = blob_store.put_file(_write(tmp_path / "a.bin", data))

    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.size == len(data)
    assert blob_store.exists(info.sha256)
    assert blob_store.size(info.sha256) == len(data)
    assert blob_store.open_range(info.sha256) == data
    assert b"".join(blob_store.iter_range(info.sha256, chunk_size=65_536)) == data


def test_ranges_are_half_open_and_clamped(blob_store: BlobStore) -> None:
    data = bytes(range(256)) * 10
    key = blob_store.put_bytes(data).sha256

    assert blob_store.open_range(key, 10, 20) == data[10:20]
    assert blob_store.open_range(key, 2500) == data[2500:]
    assert blob_store.open_range(key, 2550, 9999) == data[2550:]
    assert b"".join(blob_store.iter_range(key, 1, 2001, chunk_size=300)) == data[1:2001]
    assert blob_store.open_range(key, 5000) == b""  # past the end: nothing, as a slice
    assert blob_store.open_range(key, 5000, 6000) == b""
    assert blob_store.open_range(key, 7, 7) == b""


def test_same_content_twice_is_a_no_op(blob_store: BlobStore, tmp_path: Path) -> None:
    data = b"identical content"
    first = blob_store.put_file(_write(tmp_path / "one", data))
    second = blob_store.put_file(_write(tmp_path / "two", data))

    assert first == second
    assert list(blob_store.iter_keys()).count(first.sha256) == 1


def test_missing_key_raises_not_found(blob_store: BlobStore) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()

    assert not blob_store.exists(key)
    with pytest.raises(BlobNotFoundError):
        blob_store.size(key)
    with pytest.raises(BlobNotFoundError):
        blob_store.open_range(key, 0, 10)
    assert blob_store.verify(key) is False


def test_keys_that_are_not_sha256_are_refused(blob_store: BlobStore) -> None:
    for bad in ["../../etc/passwd", "ABC", "a" * 63, "g" * 64]:
        with pytest.raises(ValueError):
            blob_store.exists(bad)


def test_iter_keys_lists_every_blob(blob_store: BlobStore) -> None:
    keys = {blob_store.put_bytes(f"blob {i}".encode()).sha256 for i in range(5)}

    assert set(blob_store.iter_keys()) == keys


def test_verify_accepts_intact_blobs(blob_store: BlobStore) -> None:
    key = blob_store.put_bytes(b"intact").sha256

    assert blob_store.verify(key) is True


def test_fetch_to_copies_into_a_local_file(blob_store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(70_000)
    key = blob_store.put_bytes(data).sha256

    target = blob_store.fetch_to(key, tmp_path / "out" / "copy.bin")

    assert target.read_bytes() == data


def test_discard_removes_a_blob(blob_store: BlobStore) -> None:
    key = blob_store.put_bytes(b"garbage from a failed upload").sha256
    blob_store.discard(key)

    assert not blob_store.exists(key)


def test_concurrent_writers_of_the_same_content_agree(blob_store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    sources = [_write(tmp_path / f"src{i}", data) for i in range(4)]
    results: list[object] = []
    threads = [threading.Thread(target=lambda p=p: results.append(blob_store.put_file(p))) for p in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1
    assert blob_store.open_range(hashlib.sha256(data).hexdigest()) == data


@pytest.mark.parametrize("storage_backend", ["file"], indirect=True)
def test_local_store_reads_in_place_and_detects_corruption(blob_store: BlobStore) -> None:
    key = blob_store.put_bytes(b"original bytes").sha256
    path = blob_store.local_path(key)
    assert path is not None and path.read_bytes() == b"original bytes"
    assert path.relative_to(path.parents[2]).as_posix() == f"{key[:2]}/{key[2:4]}/{key}"

    path.chmod(0o644)
    path.write_bytes(b"bit rot")

    assert blob_store.verify(key) is False
    assert blob_store.presigned_url(key) is None


@pytest.mark.parametrize("storage_backend", [pytest.param("s3", marks=pytest.mark.s3)], indirect=True)
def test_s3_multipart_upload_of_a_big_file(blob_store: BlobStore, tmp_path: Path) -> None:
    from cellportal.storage.s3 import S3BlobStore

    assert isinstance(blob_store, S3BlobStore)
    blob_store.multipart_threshold = 6 * 1024 * 1024  # exercise multipart without a huge file
    blob_store.part_size = 5 * 1024 * 1024
    data = os.urandom(13 * 1024 * 1024)
    info = blob_store.put_file(_write(tmp_path / "big.bin", data))

    assert info.size == len(data)
    assert blob_store.verify(info.sha256)
    assert blob_store.open_range(info.sha256, len(data) - 1000) == data[-1000:]


@pytest.mark.parametrize("storage_backend", [pytest.param("s3", marks=pytest.mark.s3)], indirect=True)
def test_s3_presigned_url_serves_ranges_with_the_file_name(blob_store: BlobStore) -> None:
    data = os.urandom(5000)
    key = blob_store.put_bytes(data).sha256
    url = blob_store.presigned_url(key, filename="Lung atlas é.h5ad", expires_in=300)
    assert url is not None

    ranged = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert ranged.content == data[1000:2000]
    assert "Lung atlas" in ranged.headers["content-disposition"]

    tampered = httpx.get(url.replace("Signature=", "Signature=0"))
    assert tampered.status_code == 403


@pytest.mark.parametrize("storage_backend", [pytest.param("s3", marks=pytest.mark.s3)], indirect=True)
def test_s3_store_ignores_foreign_objects_when_listing(blob_store: BlobStore) -> None:
    import obstore

    from cellportal.storage.s3 import S3BlobStore

    assert isinstance(blob_store, S3BlobStore)
    key = blob_store.put_bytes(b"a blob").sha256
    obstore.put(blob_store._store, "README.txt", b"not a blob")

    assert list(blob_store.iter_keys()) == [key]
