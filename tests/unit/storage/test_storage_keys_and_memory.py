"""Key layout and the in-memory store (no server, no disk)."""

from __future__ import annotations

import hashlib

import pytest

from cellportal.config import Settings
from cellportal.storage import content_disposition, open_store, open_store_url
from cellportal.storage.base import check_key, key_from_path, key_path
from cellportal.storage.local import LocalBlobStore
from cellportal.storage.memory import MemoryBlobStore
from cellportal.storage.s3 import S3BlobStore

KEY = hashlib.sha256(b"x").hexdigest()


def test_key_path_fans_out_on_the_first_four_hex_digits() -> None:
    assert key_path(KEY) == f"{KEY[:2]}/{KEY[2:4]}/{KEY}"
    assert key_from_path("prefix/" + key_path(KEY)) == KEY


@pytest.mark.parametrize("path", ["ab/cd/notakey", f"zz/zz/{KEY}", KEY, ".tmp/put-123"])
def test_key_from_path_ignores_what_is_not_a_blob(path: str) -> None:
    assert key_from_path(path) is None


@pytest.mark.parametrize("bad", ["", "../x", KEY.upper(), KEY + "0", 123])
def test_check_key_refuses_anything_but_lowercase_sha256(bad: object) -> None:
    with pytest.raises(ValueError):
        check_key(bad)  # type: ignore[arg-type]


def test_memory_store_is_write_once_and_ranged() -> None:
    store = MemoryBlobStore()
    info = store.put_bytes(b"0123456789")

    assert store.put_bytes(b"0123456789") == info
    assert store.open_range(info.sha256, 3, 6) == b"345"
    assert list(store.iter_range(info.sha256, 1, 9, chunk_size=3)) == [b"123", b"456", b"78"]
    assert store.verify(info.sha256)
    store._blobs[info.sha256] = b"tampered"
    assert not store.verify(info.sha256)


def test_open_store_picks_the_backend_from_the_url(tmp_path) -> None:
    assert isinstance(open_store(Settings(data_dir=tmp_path)), LocalBlobStore)
    assert open_store(Settings(data_dir=tmp_path)).url == f"file://{tmp_path.resolve()}/blobs"
    assert isinstance(open_store_url("memory://"), MemoryBlobStore)
    s3 = open_store_url(
        "s3://bucket/some/prefix", endpoint_url="http://127.0.0.1:1", access_key_id="k", secret_access_key="s"
    )
    assert isinstance(s3, S3BlobStore) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    with pytest.raises(ValueError):
        open_store_url("ftp://example.org/x")
    with pytest.raises(ValueError):
        open_store_url("s3:///no-bucket")


def test_content_disposition_keeps_unicode_names_and_an_ascii_fallback() -> None:
    header = content_disposition('Lung "atlas" é.h5ad')

    assert header.startswith('attachment; filename="Lung atlas _.h5ad"')
    assert "filename*=UTF-8''Lung%20%22atlas%22%20%C3%A9.h5ad" in header
