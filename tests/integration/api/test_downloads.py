"""GET/HEAD /datasets/<id>.<ext>: Range, ETag, names, redirects, privacy and tombstones; local and S3 storage."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from fastapi.testclient import TestClient

from cellportal.app import create_app
from cellportal.auth.principals import StaticTokens
from cellportal.catalog import service
from cellportal.runtime import Runtime
from tests.fixtures.builders import artifact_bytes, make_collection, make_ready
from tests.integration.api.conftest import TOKENS, as_

pytestmark = pytest.mark.parametrize(
    "storage_backend", ["file", pytest.param("s3", marks=pytest.mark.s3)], indirect=True
)


def fetch(client: TestClient, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """GET as a browser would: a redirect to the object store leaves the app, so follow it for real."""
    response = client.get(url, headers=headers, follow_redirects=False)
    if response.status_code == 307:
        ranged = {k: v for k, v in (headers or {}).items() if k == "Range"}  # the signature replaces our token
        return httpx.get(response.headers["location"], headers=ranged)
    return response


def test_version_url_serves_the_file_with_range_etag_and_name(client: TestClient, write, put_blob) -> None:
    with write() as session:
        version = make_collection(session, datasets=1, put_blob=put_blob).dataset_versions[0]
    url = f"/datasets/{version.id}.h5ad"
    data = artifact_bytes(version.id, "h5ad")

    full = fetch(client, url)
    assert full.status_code == 200 and full.content == data
    ranged = fetch(client, url, {"Range": "bytes=5-14"})
    assert ranged.status_code == 206 and ranged.content == data[5:15]
    assert ranged.headers["content-range"] == f"bytes 5-14/{len(data)}"
    assert f"Dataset 1 ({version.id[:8]}).h5ad" in full.headers["content-disposition"]

    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert head.headers["accept-ranges"] == "bytes"
    assert "attachment" in head.headers["content-disposition"]

    cached = client.get(url, headers={"If-None-Match": head.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""


def test_every_artifact_type_has_its_url(client: TestClient, write, put_blob) -> None:
    with write() as session:
        version = make_collection(session, datasets=1, put_blob=put_blob).dataset_versions[0]

    for extension, artifact_type in (("h5ad", "h5ad"), ("rds", "rds"), ("loom", "loom"), ("explorer.h5", "explorer")):
        response = fetch(client, f"/datasets/{version.id}.{extension}")
        assert response.status_code == 200, extension
        assert response.content == artifact_bytes(version.id, artifact_type)
    assert client.get(f"/datasets/{version.id}.zip").status_code == 404


def test_canonical_url_redirects_to_the_latest_published_version(client: TestClient, write, put_blob) -> None:
    with write() as session:
        first = make_collection(session, datasets=1, put_blob=put_blob)
        dataset = first.dataset_versions[0]
        revision = service.start_revision(session, collection_id=first.collection_id)
        replacement = service.replace_dataset(session, collection_version_id=revision.id, dataset_id=dataset.dataset_id)
        make_ready(session, replacement, put_blob=put_blob)
        service.publish(session, collection_version_id=revision.id)

    redirect = client.get(f"/datasets/{dataset.dataset_id}.rds", follow_redirects=False)
    assert redirect.status_code == 302
    assert redirect.headers["location"].endswith(f"/datasets/{replacement.id}.rds")
    assert redirect.headers["cache-control"] == "no-cache"
    old = fetch(client, f"/datasets/{dataset.id}.rds")
    assert old.status_code == 200 and old.content == artifact_bytes(dataset.id, "rds")  # the old file stays


def test_private_files_are_for_the_owner_and_the_upload_for_the_owner_only(client: TestClient, write, put_blob) -> None:
    with write() as session:
        private = make_collection(session, datasets=1, published=False, put_blob=put_blob).dataset_versions[0]
        public = make_collection(session, datasets=1, put_blob=put_blob).dataset_versions[0]

    assert client.get(f"/datasets/{private.id}.h5ad").status_code == 404
    assert client.head(f"/datasets/{private.id}.h5ad", headers=as_("stranger")).status_code == 404
    owned = fetch(client, f"/datasets/{private.id}.h5ad", as_("owner"))
    assert owned.status_code == 200 and owned.content == artifact_bytes(private.id, "h5ad")
    assert client.head(f"/datasets/{private.id}.h5ad", headers=as_("owner")).headers["cache-control"] == (
        "private, no-cache"
    )
    # The upload as received: never public, even once published.
    assert client.get(f"/datasets/{public.id}.raw.h5ad").status_code == 404
    assert client.get(f"/datasets/{public.id}.raw.h5ad", headers=as_("stranger")).status_code == 404
    for who in ("owner", "admin"):
        original = fetch(client, f"/datasets/{public.id}.raw.h5ad", as_(who))
        assert original.status_code == 200 and original.content == artifact_bytes(public.id, "raw_h5ad")


def test_withdrawn_files_answer_410_with_the_reason(client: TestClient, write, put_blob) -> None:
    with write() as session:
        version = make_collection(session, datasets=1, put_blob=put_blob)
        dataset = version.dataset_versions[0]
        service.withdraw_collection(session, collection_id=version.collection_id, reason="duplicate submission")

    for url in (f"/datasets/{dataset.id}.h5ad", f"/datasets/{dataset.dataset_id}.h5ad"):
        gone = client.get(url)
        assert gone.status_code == 410
        assert gone.headers["content-type"] == "application/problem+json"
        assert "duplicate submission" in gone.json()["reason"]
        assert client.head(url).status_code == 410


def test_s3_choice_redirects_or_proxies(runtime: Runtime, write, put_blob, storage_backend: str) -> None:
    with write() as session:
        version = make_collection(session, datasets=1, put_blob=put_blob).dataset_versions[0]
    data = artifact_bytes(version.id, "loom")
    url = f"/datasets/{version.id}.loom"

    with TestClient(create_app(runtime, token_resolver=StaticTokens(TOKENS), s3_downloads="proxy")) as proxy:
        assert proxy.get(url, follow_redirects=False).content == data
        ranged = proxy.get(url, headers={"Range": "bytes=-7"}, follow_redirects=False)
        assert (ranged.status_code, ranged.content) == (206, data[-7:])
        assert proxy.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
        stale = proxy.get(url, headers={"Range": "bytes=0-3", "If-Range": '"not-the-etag"'}, follow_redirects=False)
        assert (stale.status_code, stale.content) == (200, data)
    with TestClient(create_app(runtime, token_resolver=StaticTokens(TOKENS))) as default:
        answer = default.get(url, follow_redirects=False)
        if storage_backend == "s3":
            assert answer.status_code == 307
            assert answer.headers["cache-control"] == "private, no-store"
            assert "X-Amz-Signature=" in answer.headers["location"]
        else:
            assert answer.status_code == 200  # a local file is always sent by the app, with Range support


class _WatchedStore:
    """The real store, reporting whether the request still held a database connection while the body streamed."""

    def __init__(self, store: object, runtime: Runtime) -> None:
        self._store, self._runtime = store, runtime
        self.connections_held_while_streaming: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def local_path(self, key: str) -> None:
        return None  # take the streaming path even for a local store

    def presigned_url(self, *args: object, **kwargs: object) -> None:
        return None

    def iter_range(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        self.connections_held_while_streaming.append(self._runtime.engine.pool.checkedout())
        yield from self._store.iter_range(*args, **kwargs)  # type: ignore[attr-defined]


def test_the_transaction_ends_before_the_file_streams(runtime: Runtime, write, put_blob) -> None:
    """On SQLite a transaction holds the write lock: a long download must not keep the worker from writing."""
    with write() as session:
        version = make_collection(session, datasets=1, put_blob=put_blob).dataset_versions[0]
    watched = _WatchedStore(runtime.blobs, runtime)
    runtime.__dict__["blobs"] = watched  # Runtime.blobs is a cached property: this is the instance it serves

    with TestClient(create_app(runtime, s3_downloads="proxy")) as client:
        response = client.get(f"/datasets/{version.id}.h5ad")

    assert response.content == artifact_bytes(version.id, "h5ad")
    assert watched.connections_held_while_streaming == [0]
