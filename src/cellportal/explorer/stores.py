"""The open explorer stores of one server process, shared by all requests.

Opening a store reads only its metadata and small arrays (names, per-gene stats, index pointers); the
expression stays in the file, read per request (pread or range GETs). A few dozen open stores therefore cost
little, and the least recently used are closed past `capacity`. Stores are keyed by content hash: a
dataset version's store never changes, so an open store never goes stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from cellportal.explorer.ranged_file import RangedFile
from cellportal.explorer.raw import RemoteBlob
from cellportal.explorer.reader import ExplorerData
from cellportal.storage.base import BlobStore

Opener = Callable[[str], ExplorerData]


class OpenStores:
    def __init__(self, opener: Opener, capacity: int = 16) -> None:
        self._opener = opener
        self._capacity = capacity
        self._open: OrderedDict[str, ExplorerData] = OrderedDict()
        self._lock = threading.Lock()
        self._opening: dict[str, threading.Lock] = {}

    def get(self, sha256: str) -> ExplorerData:
        with self._lock:
            data = self._open.get(sha256)
            if data is not None:
                self._open.move_to_end(sha256)
                return data
            # One opening per store at a time; other stores open in parallel.
            opening = self._opening.setdefault(sha256, threading.Lock())
        with opening:
            with self._lock:
                if sha256 in self._open:
                    return self._open[sha256]
            data = self._opener(sha256)
            with self._lock:
                self._open[sha256] = data
                self._opening.pop(sha256, None)
                # Not closed explicitly: a request may still be reading it; h5py closes the file when the
                # last reference goes.
                while len(self._open) > self._capacity:
                    self._open.popitem(last=False)
        return data

    def __len__(self) -> int:
        return len(self._open)

    def close(self) -> None:
        with self._lock:
            for data in self._open.values():
                data.close()
            self._open.clear()


def blob_opener(blobs: BlobStore) -> Opener:
    """Opens stores from the blob store: a local file in place (pread), a remote blob through range requests
    (h5py over a block-caching file object for the metadata, direct range GETs for X's raw arrays)."""

    def open_store(sha256: str) -> ExplorerData:
        path = blobs.local_path(sha256)
        if path is not None:
            return ExplorerData(path)

        def read_range(start: int, end: int) -> bytes:
            return blobs.open_range(sha256, start, end)

        return ExplorerData(RangedFile(read_range, blobs.size(sha256), sha256), RemoteBlob(read_range))

    return open_store
