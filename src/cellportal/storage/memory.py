"""A blob store in a dict: a real implementation of the contract, for unit tests and throwaway demos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cellportal.storage.base import (
    CHUNK_SIZE,
    BlobInfo,
    BlobNotFoundError,
    check_key,
    fetch_by_streaming,
    hash_chunks,
    verify_by_streaming,
)


class MemoryBlobStore:
    def __init__(self) -> None:
        self.url = "memory://"
        self._blobs: dict[str, bytes] = {}

    def _get(self, key: str) -> bytes:
        try:
            return self._blobs[check_key(key)]
        except KeyError:
            raise BlobNotFoundError(key) from None

    def put_bytes(self, data: bytes) -> BlobInfo:
        info = hash_chunks([data])
        self._blobs.setdefault(info.sha256, bytes(data))
        return info

    def put_file(self, path: Path) -> BlobInfo:
        return self.put_bytes(Path(path).read_bytes())

    def exists(self, key: str) -> bool:
        return check_key(key) in self._blobs

    def size(self, key: str) -> int:
        return len(self._get(key))

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        return self._get(key)[start:end]

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        data = self._get(key)
        stop = len(data) if end is None else min(end, len(data))
        for offset in range(start, stop, chunk_size):
            yield data[offset : min(offset + chunk_size, stop)]

    def local_path(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str, filename: str | None = None, expires_in: int = 3600) -> str | None:
        return None

    def fetch_to(self, key: str, destination: Path) -> Path:
        return fetch_by_streaming(self, key, destination)

    def iter_keys(self) -> Iterator[str]:
        return iter(list(self._blobs))

    def verify(self, key: str) -> bool:
        return verify_by_streaming(self, key)

    def discard(self, key: str) -> None:
        self._blobs.pop(check_key(key), None)
