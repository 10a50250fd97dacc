"""Blobs in an S3-compatible bucket (AWS, MinIO, Ceph, SeaweedFS), through obstore.

Why two passes on upload: the key is the sha256 of the content and S3 cannot rename, and a server-side
copy from a temporary key is limited to 5 GB in one request. So `put_file` hashes the file first, skips
the upload when the key already exists, then uploads (multipart above `multipart_threshold`) while
hashing again, and deletes the object if the second hash differs (the file changed underneath us).

boto3 is used only to sign presigned GET URLs (obstore's signer cannot set response-content-disposition).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import AlreadyExistsError
from obstore.store import S3Store

from cellportal.storage.base import (
    CHUNK_SIZE,
    BlobInfo,
    BlobIntegrityError,
    BlobNotFoundError,
    check_key,
    content_disposition,
    fetch_by_streaming,
    hash_file,
    key_from_path,
    key_path,
    read_chunks,
    verify_by_streaming,
)

MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str = "us-east-1",
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.url = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint_url}" if endpoint_url else "")
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._region = region
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        config: dict[str, Any] = {"region": region}
        client_options: dict[str, Any] = {}
        if endpoint_url:
            # Self-hosted servers (SeaweedFS, MinIO) want path-style requests, and often plain HTTP.
            config["endpoint"] = endpoint_url
            config["virtual_hosted_style_request"] = False
            if urlsplit(endpoint_url).scheme == "http":
                client_options["allow_http"] = True
        if access_key_id and secret_access_key:
            config["access_key_id"] = access_key_id
            config["secret_access_key"] = secret_access_key
        self._store = S3Store(bucket, prefix=self.prefix or None, config=config, client_options=client_options)
        self._signer: Any = None

    # -- writing ---------------------------------------------------------------------------------------

    def put_file(self, path: Path) -> BlobInfo:
        path = Path(path)
        info = hash_file(path)
        if self.exists(info.sha256):
            return info
        if info.size <= self.multipart_threshold:
            return self._put_small(path.read_bytes(), info)
        location = key_path(info.sha256)
        digest = hashlib.sha256()

        def hashed_parts() -> Iterator[bytes]:
            for chunk in read_chunks(path, self.part_size):
                digest.update(chunk)
                yield chunk

        obstore.put(
            self._store, location, hashed_parts(), use_multipart=True, chunk_size=self.part_size, max_concurrency=4
        )
        if digest.hexdigest() != info.sha256:
            obstore.delete(self._store, location)
            raise BlobIntegrityError(f"{path} changed while it was being stored")
        return info

    def put_bytes(self, data: bytes) -> BlobInfo:
        info = BlobInfo(hashlib.sha256(data).hexdigest(), len(data))
        if self.exists(info.sha256):
            return info
        return self._put_small(data, info)

    def _put_small(self, data: bytes, info: BlobInfo) -> BlobInfo:
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise BlobIntegrityError("content changed while it was being stored")
        # mode="create" sends If-None-Match: *, so the server refuses to replace an object, even under a race.
        with contextlib.suppress(AlreadyExistsError):
            obstore.put(self._store, key_path(info.sha256), data, mode="create")
        return info

    # -- reading ---------------------------------------------------------------------------------------

    def _head(self, key: str) -> dict[str, Any]:
        try:
            return dict(obstore.head(self._store, key_path(key)))
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except BlobNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["size"])

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        return b"".join(self.iter_range(key, start, end))

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        # One ranged GET, no HEAD first: the explorer reads many small ranges and each round trip counts.
        if end is not None and end <= start:
            return
        byte_range: Any = (start, end) if end is not None else {"offset": start}
        try:
            result = obstore.get(self._store, key_path(key), options={"range": byte_range} if start or end else None)
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None
        except Exception:
            # S3 refuses a range that starts past the end; read that as "nothing there", like a slice would.
            if start >= self.size(key):
                return
            raise
        for chunk in result.stream(min_chunk_size=chunk_size):
            yield bytes(chunk)

    def local_path(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str, filename: str | None = None, expires_in: int = 3600) -> str | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._object_name(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return str(self._boto_client().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))

    def fetch_to(self, key: str, destination: Path) -> Path:
        return fetch_by_streaming(self, key, destination)

    def iter_keys(self) -> Iterator[str]:
        for batch in obstore.list(self._store, chunk_size=1000):
            for meta in batch:
                key = key_from_path(meta["path"])
                if key is not None:
                    yield key

    def verify(self, key: str) -> bool:
        return verify_by_streaming(self, key)

    def discard(self, key: str) -> None:
        obstore.delete(self._store, key_path(check_key(key)))

    # -- helpers ---------------------------------------------------------------------------------------

    def _object_name(self, key: str) -> str:
        return f"{self.prefix}/{key_path(key)}" if self.prefix else key_path(key)

    def _boto_client(self) -> Any:
        if self._signer is None:
            import boto3
            from botocore.config import Config

            config = Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                # New boto3 adds CRC checksums by default, which third-party S3 servers reject.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            self._signer = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self._access_key_id,
                aws_secret_access_key=self._secret_access_key,
                region_name=self._region,
                config=config,
            )
        return self._signer
