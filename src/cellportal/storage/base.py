"""The blob store contract: write-once files keyed by the sha256 of their content.

Every file the portal keeps (uploads, labelled h5ad, rds, loom, explorer stores) is a blob. The key *is* the
content hash, so a key can never point at other bytes: writing the same content twice is a no-op, and a
published artifact cannot be altered by anyone holding only the store API. The catalog records each
artifact's sha256 and size; `verify` lets `cellportal fsck` prove the bytes still match.

Keys are laid out as ``ab/cd/<sha256>`` in every backend, so a local store can be copied into a bucket
(or back) with any sync tool and keep working.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

CHUNK_SIZE = 8 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobNotFoundError(FileNotFoundError):
    """No blob under this key."""


class BlobIntegrityError(RuntimeError):
    """The bytes written did not hash to the key they were meant for (the source changed while storing)."""


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int

    @property
    def key(self) -> str:
        return self.sha256


def check_key(key: str) -> str:
    """Keys are lowercase hex sha256; refusing anything else also rules out path traversal."""
    if not isinstance(key, str) or not _SHA256.match(key):
        raise ValueError(f"not a sha256 blob key: {key!r}")
    return key


def key_path(key: str) -> str:
    """The fan-out path of a key, the same in every backend: ``ab/cd/abcd…``."""
    check_key(key)
    return f"{key[:2]}/{key[2:4]}/{key}"


def key_from_path(path: str) -> str | None:
    """The key a stored path holds, or None for anything that is not a blob (temp files, stray objects)."""
    parts = path.strip("/").split("/")
    if len(parts) < 3:
        return None
    key = parts[-1]
    if _SHA256.match(key) and parts[-3] == key[:2] and parts[-2] == key[2:4]:
        return key
    return None


def hash_chunks(chunks: Iterable[bytes]) -> BlobInfo:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return BlobInfo(digest.hexdigest(), size)


def read_chunks(path: Path, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def hash_file(path: Path) -> BlobInfo:
    return hash_chunks(read_chunks(path))


class BlobStore(Protocol):
    """Write-once, content-addressed storage. Implementations: local directory, S3, memory (tests).

    Ranges are half-open, ``[start, end)``, as Python slices; ``end=None`` reads to the end.
    """

    #: A description for logs and error messages (never contains secrets).
    url: str

    def put_file(self, path: Path) -> BlobInfo:
        """Store a file, hashing it while streaming; never overwrites (same content is a no-op)."""
        ...

    def put_bytes(self, data: bytes) -> BlobInfo:
        """Store small content held in memory; same rules as `put_file`."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Size in bytes; raises BlobNotFoundError."""
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``[start, end)`` of a blob (clamped to its size); raises BlobNotFoundError."""
        ...

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream bytes ``[start, end)`` in chunks, without holding the blob in memory."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A filesystem path to read the blob in place, for local stores (BlobNotFoundError if missing);
        None for stores that have no local files."""
        ...

    def presigned_url(self, key: str, filename: str | None = None, expires_in: int = 3600) -> str | None:
        """A time-limited URL the client can fetch directly (Range included); None where not supported."""
        ...

    def fetch_to(self, key: str, destination: Path) -> Path:
        """Copy a blob to a local file (for jobs that need a real file); returns destination."""
        ...

    def iter_keys(self) -> Iterator[str]:
        """Every key in the store, in no particular order."""
        ...

    def verify(self, key: str) -> bool:
        """Recompute the sha256 of the stored bytes; False if they no longer match the key or are gone."""
        ...

    def discard(self, key: str) -> None:
        """Delete a blob. Only for garbage no catalog row references (failed uploads); never for artifacts."""
        ...


def verify_by_streaming(store: BlobStore, key: str) -> bool:
    try:
        return hash_chunks(store.iter_range(key)).sha256 == key
    except BlobNotFoundError:
        return False


def fetch_by_streaming(store: BlobStore, key: str, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with open(partial, "wb") as out:
        for chunk in store.iter_range(key):
            out.write(chunk)
    partial.replace(destination)
    return destination


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
