"""Blobs in a local directory: ``<root>/ab/cd/<sha256>``, written through a temp file and an atomic link.

Writes go to ``<root>/.tmp/`` first (same filesystem, so the final step is atomic), hashed while copied.
The final name is created with ``os.link``, which fails rather than replaces when the name exists: two
writers of the same content race harmlessly and nothing ever overwrites a stored blob. Stored files are
made read-only as a reminder that they are immutable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cellportal.storage.base import (
    CHUNK_SIZE,
    BlobInfo,
    BlobNotFoundError,
    check_key,
    key_from_path,
    key_path,
    verify_by_streaming,
)

_TMP = ".tmp"


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.url = f"file://{self.root}"
        (self.root / _TMP).mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key_path(key)

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFoundError(key)
        return path

    def put_file(self, path: Path) -> BlobInfo:
        with open(path, "rb") as source:
            return self._store_stream(iter(lambda: source.read(CHUNK_SIZE), b""))

    def put_bytes(self, data: bytes) -> BlobInfo:
        return self._store_stream(iter([data]))

    def _store_stream(self, chunks: Iterator[bytes]) -> BlobInfo:
        digest = hashlib.sha256()
        size = 0
        fd, temp_name = tempfile.mkstemp(dir=self.root / _TMP, prefix="put-")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            info = BlobInfo(digest.hexdigest(), size)
            final = self._path(info.sha256)
            if not final.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                temp.chmod(0o444)
                # os.link refuses to replace an existing name: a concurrent writer of the same content wins.
                with contextlib.suppress(FileExistsError):
                    os.link(temp, final)
            return info
        finally:
            temp.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        return b"".join(self.iter_range(key, start, end))

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        path = self._existing(key)
        with open(path, "rb") as handle:
            handle.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                want = chunk_size if remaining is None else min(chunk_size, remaining)
                chunk = handle.read(want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def local_path(self, key: str) -> Path | None:
        return self._existing(key)

    def presigned_url(self, key: str, filename: str | None = None, expires_in: int = 3600) -> str | None:
        return None

    def fetch_to(self, key: str, destination: Path) -> Path:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._existing(key), destination)
        destination.chmod(0o644)
        return destination

    def iter_keys(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            key = key_from_path(path.relative_to(self.root).as_posix())
            if key is not None and path.is_file():
                yield key

    def verify(self, key: str) -> bool:
        return verify_by_streaming(self, key)

    def discard(self, key: str) -> None:
        self._path(check_key(key)).unlink(missing_ok=True)
