"""Write-once blob storage keyed by sha256: a local directory by default, or an S3-compatible bucket.

``open_store(settings)`` picks the backend from ``storage_url``: ``file:///path``, ``s3://bucket/prefix``
(with ``s3_endpoint_url`` and keys for self-hosted servers) or ``memory://`` (tests only).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from cellportal.storage.base import (
    BlobInfo,
    BlobIntegrityError,
    BlobNotFoundError,
    BlobStore,
    content_disposition,
    hash_file,
)

if TYPE_CHECKING:
    from cellportal.config import Settings

__all__ = [
    "BlobInfo",
    "BlobIntegrityError",
    "BlobNotFoundError",
    "BlobStore",
    "content_disposition",
    "hash_file",
    "open_store",
    "open_store_url",
]


def open_store(settings: Settings) -> BlobStore:
    return open_store_url(
        settings.resolved_storage_url,
        endpoint_url=settings.s3_endpoint_url,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        region=settings.s3_region,
    )


def open_store_url(
    url: str,
    *,
    endpoint_url: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    region: str = "us-east-1",
) -> BlobStore:
    parts = urlsplit(url)
    if parts.scheme == "file":
        from cellportal.storage.local import LocalBlobStore

        return LocalBlobStore(Path(unquote(parts.netloc + parts.path)))
    if parts.scheme in {"s3", "s3a"}:
        from cellportal.storage.s3 import S3BlobStore

        if not parts.netloc:
            raise ValueError(f"storage_url {url!r} names no bucket; use s3://bucket/prefix")
        return S3BlobStore(
            parts.netloc,
            parts.path.strip("/"),
            endpoint_url=endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            region=region,
        )
    if parts.scheme == "memory":
        from cellportal.storage.memory import MemoryBlobStore

        return MemoryBlobStore()
    raise ValueError(f"unsupported storage_url {url!r}: use file:///path or s3://bucket/prefix")
