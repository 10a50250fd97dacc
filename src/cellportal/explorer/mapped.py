"""Uncompressed expression arrays read with pread, and the local cache that makes them when the store
compresses X.

DE over cells scattered through a million-cell matrix reads small pieces everywhere. Compressed chunks
(the explorer store's X is gzip-chunked) must be decompressed whole to read any piece, so every DE would
decompress most of the matrix; uncompressed arrays are read exactly. When the store holds X contiguous
and uncompressed it is read in place; otherwise an uncompressed copy of the two orientations is written
once per store, in the background, under ``<cache_dir>/<sha256>/`` (8 bytes per non-zero and orientation),
and used from then on. Until it is ready, requests read the store through h5py.

The arrays are read with pread into fresh buffers rather than memory-mapped: scattered reads through a
mapping leave 64 KiB of the file resident per access (the kernel maps pages around each fault), which put
800 MiB of a 1.2 GiB matrix into the process for one 10k-cell selection. With pread the file stays in the
kernel's page cache, shared and reclaimable, and the process holds only what a request asked for.
"""

from __future__ import annotations

import json
import logging
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


class RawFile:
    """A file opened for positional reads; arrays in it are `FileArray`s."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        self._finalizer = weakref.finalize(self, os.close, self.fd)

    def array(self, dtype: np.dtype, offset: int, count: int) -> FileArray:
        return FileArray(self, np.dtype(dtype), offset, count)


class FileArray:
    """A 1-D array stored raw (little-endian, native here) at `offset` in a file, read on demand."""

    def __init__(self, file: RawFile, dtype: np.dtype, offset: int, count: int) -> None:
        self.file, self.dtype, self.offset, self.size = file, dtype, offset, count

    def read(self, lo: int, hi: int) -> np.ndarray:
        out = np.empty(max(0, hi - lo), dtype=self.dtype)
        if out.size:
            _pread_into(self.file.fd, out, self.offset + lo * self.dtype.itemsize)
        return out

    def take_runs(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Elements [start, start + length) of each run, concatenated; adjacent runs are read together."""
        out = np.empty(int(lengths.sum()), dtype=self.dtype)
        if out.size == 0:
            return out
        ends = starts + lengths
        # Merge runs that touch: a run starting where the previous ended continues it.
        new = np.ones(len(starts), dtype=bool)
        new[1:] = starts[1:] != ends[:-1]
        first = np.flatnonzero(new)
        merged_starts = starts[first]
        merged_ends = ends[np.append(first[1:], len(starts)) - 1]
        # The hot loop of a scattered selection (two reads per run): kept to one call per run.
        view = memoryview(out).cast("B")
        size = self.dtype.itemsize
        fd, base, preadv = self.file.fd, self.offset, os.preadv
        position = 0
        for start, end in zip(merged_starts.tolist(), merged_ends.tolist(), strict=True):
            nbytes = (end - start) * size
            if preadv(fd, [view[position : position + nbytes]], base + start * size) != nbytes:
                _pread_into(fd, out[position // size : (position + nbytes) // size], base + start * size)
            position += nbytes
        return out


def _pread_into(fd: int, out: np.ndarray, offset: int) -> None:
    view = memoryview(out).cast("B")
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got <= 0:
            raise OSError(f"short read at offset {offset + done}")
        done += got


def in_place(dataset: h5py.Dataset, file: RawFile | None) -> FileArray | None:
    """The array of an HDF5 dataset stored contiguous and uncompressed in a local file, or None."""
    if file is None or dataset.chunks is not None or dataset.compression is not None:
        return None
    offset = dataset.id.get_offset()
    if offset is None:
        return None
    return file.array(dataset.dtype, offset, dataset.size)


# axis -> (indices, data)
Mapped = dict[str, tuple[FileArray, FileArray]]


class MatrixCache:
    """Uncompressed copies of stores' X (indices and data of both orientations) on local disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._building: set[str] = set()
        self._lock = threading.Lock()
        # One copy at a time: each is a long sequential job, and requests need the CPU more.
        self._one_at_a_time = threading.Lock()

    def open(self, sha256: str) -> Mapped | None:
        """{axis: (indices, data)} when the copy of this store is complete, else None."""
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
            out[axis] = (
                RawFile(folder / f"{axis}.indices.i32").array(np.dtype(np.int32), 0, count),
                RawFile(folder / f"{axis}.data.f32").array(np.dtype(np.float32), 0, count),
            )
        return out

    def build_in_background(
        self, sha256: str, open_source: Callable[[], Path | BinaryIO], on_ready: Callable[[Mapped], None]
    ) -> None:
        """Start copying the store `open_source()` gives (a local path, or a ranged reader of a remote blob);
        `on_ready` receives the arrays when the copy is complete."""
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
