"""Memory-mapped expression arrays, and the local cache that makes them when the store compresses X.

DE over cells scattered through a million-cell matrix reads small pieces everywhere. Compressed chunks
(the explorer store's X is gzip-chunked) must be decompressed whole to read any piece, so every DE would
decompress most of the matrix; uncompressed arrays are read exactly. When the store holds X contiguous
and uncompressed it is mapped in place; otherwise an uncompressed copy of the two orientations is written
once per store, in the background, under ``<cache_dir>/<sha256>/`` (8 bytes per non-zero and orientation),
and used from then on. Until it is ready, requests read the store through h5py.

Mapped pages that reads touched are handed back (``MADV_DONTNEED``) once more than `PAGE_BUDGET` bytes
were read since the last time: they stay in the kernel's page cache, shared and reclaimable, but leave the
process's resident set, so its memory stays bounded however large the selections were. Handing back after
every request would make each request fault its pages in again.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import h5py
import numpy as np

log = logging.getLogger(__name__)

AXES = ("cell_major", "gene_major")
COPY_ELEMENTS = 4 * 1024 * 1024
MANIFEST = "manifest.json"
CACHE_FORMAT = 1


PAGE_BUDGET = 128 * 1024 * 1024


class PageBudget:
    """Counts bytes read through every mapping of the process; past the budget, all are handed back."""

    def __init__(self, budget: int = PAGE_BUDGET) -> None:
        self.budget = budget
        self._files: weakref.WeakSet[MappedFile] = weakref.WeakSet()
        self._touched = 0
        self._lock = threading.Lock()

    def register(self, file: MappedFile) -> None:
        with self._lock:
            self._files.add(file)

    def touched(self, nbytes: int) -> None:
        with self._lock:
            self._touched += nbytes
            if self._touched <= self.budget:
                return
            self._touched = 0
            files = list(self._files)
        for file in files:
            file.release()


PAGES = PageBudget()


class MappedFile:
    """A read-only mapping of a whole file; arrays are views into it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        PAGES.register(self)

    def array(self, dtype: np.dtype, offset: int, count: int) -> np.ndarray:
        if self._map is None or count == 0:
            return np.zeros(0, dtype=dtype)
        return np.frombuffer(self._map, dtype=dtype, count=count, offset=offset)

    def release(self) -> None:
        """Drop this process's resident pages of the mapping (the page cache keeps them)."""
        if self._map is not None:
            self._map.madvise(mmap.MADV_DONTNEED)


def in_place(dataset: h5py.Dataset, mapped: MappedFile | None) -> np.ndarray | None:
    """A view of an HDF5 dataset stored contiguous and uncompressed, or None."""
    if mapped is None or dataset.chunks is not None or dataset.compression is not None:
        return None
    offset = dataset.id.get_offset()
    if offset is None:
        return None
    return mapped.array(dataset.dtype, offset, dataset.size)


# axis -> (indices, data, and the mapped files they view)
Mapped = dict[str, tuple[np.ndarray, np.ndarray, MappedFile, MappedFile]]


class MatrixCache:
    """Uncompressed copies of stores' X (indices and data of both orientations) on local disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._building: set[str] = set()
        self._lock = threading.Lock()
        # One copy at a time: each is a long sequential job, and requests need the CPU more.
        self._one_at_a_time = threading.Lock()

    def open(self, sha256: str) -> Mapped | None:
        """{axis: (indices, data, their mapped files)} when the copy of this store is complete, else None."""
        folder = self.directory / sha256
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        if manifest.get("format") != CACHE_FORMAT:
            return None
        out = {}
        for axis in AXES:
            count = int(manifest[axis])
            indices_file = MappedFile(folder / f"{axis}.indices.i32")
            data_file = MappedFile(folder / f"{axis}.data.f32")
            out[axis] = (
                indices_file.array(np.dtype(np.int32), 0, count),
                data_file.array(np.dtype(np.float32), 0, count),
                indices_file,
                data_file,
            )
        return out

    def build_in_background(
        self, sha256: str, open_source: Callable[[], Path | BinaryIO], on_ready: Callable[[Mapped], None]
    ) -> None:
        """Start copying the store `open_source()` gives (a local path, or a ranged reader of a remote blob);
        `on_ready` receives the mapped arrays when the copy is complete."""
        with self._lock:
            if sha256 in self._building:
                return
            self._building.add(sha256)

        def run() -> None:
            try:
                with self._one_at_a_time:
                    if self.open(sha256) is None:
                        self._build(sha256, open_source())
                mapped = self.open(sha256)
                if mapped is not None:
                    on_ready(mapped)
            except Exception:
                log.exception("could not build the uncompressed copy of explorer store %s", sha256)
            finally:
                with self._lock:
                    self._building.discard(sha256)

        threading.Thread(target=run, name=f"explorer-cache-{sha256[:8]}", daemon=True).start()

    def _build(self, sha256: str, source: Path | BinaryIO) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{sha256}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        manifest: dict[str, int] = {"format": CACHE_FORMAT}
        try:
            with h5py.File(source, "r") as store:
                for axis in AXES:
                    group = store[f"X/{axis}"]
                    manifest[axis] = int(group["data"].size)
                    _copy(group["indices"], partial / f"{axis}.indices.i32", np.int32)
                    _copy(group["data"], partial / f"{axis}.data.f32", np.float32)
            (partial / MANIFEST).write_text(json.dumps(manifest))
            os.replace(partial, self.directory / sha256)
        finally:
            shutil.rmtree(partial, ignore_errors=True)


def _copy(dataset: h5py.Dataset, dest: Path, dtype: type) -> None:
    with open(dest, "wb") as out:
        for start in range(0, dataset.size, COPY_ELEMENTS):
            block = dataset[start : start + COPY_ELEMENTS]
            out.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
