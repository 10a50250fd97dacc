"""X's arrays read straight from the explorer store's bytes: pread on a local file, range GETs on a remote blob.

Format 1.1 stores keep X's four arrays contiguous and uncompressed, so element i of an array is at a known
byte offset: a gene is one read, a selection of cells one read per run of adjacent cells, and nothing is
decompressed or copied to a cache first.

Local files are read with pread into fresh buffers rather than memory-mapped: scattered reads through a
mapping leave 64 KiB of the file resident per access (the kernel maps pages around each fault), which put
800 MiB of a 1.2 GiB matrix into the process for one 10k-cell selection. With pread the file stays in the
kernel's page cache, shared between processes and reclaimable, and the process holds only what a request asked
for.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from cellportal.formats.explorer_store import StoredArray

# Remote runs closer than this are fetched by one range GET (a request costs more than the bytes between).
REMOTE_GAP_BYTES = 256 * 1024


class ByteSource(Protocol):
    local: bool

    def read_into(self, view: memoryview, offset: int) -> None:
        """Fill `view` with the bytes at `offset`."""


class LocalFile:
    """A local file opened once for positional reads."""

    local = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        self._finalizer = weakref.finalize(self, os.close, self.fd)

    def read_into(self, view: memoryview, offset: int) -> None:
        done = 0
        while done < len(view):
            got = os.preadv(self.fd, [view[done:]], offset + done)
            if got <= 0:
                raise OSError(f"{self.path}: short read at offset {offset + done}")
            done += got


class RemoteBlob:
    """A blob read with range requests (`read_range(start, end)` -> bytes of [start, end))."""

    local = False

    def __init__(self, read_range: Callable[[int, int], bytes]) -> None:
        self._read_range = read_range

    def read_into(self, view: memoryview, offset: int) -> None:
        data = self._read_range(offset, offset + len(view))
        if len(data) != len(view):
            raise OSError(f"short range read at offset {offset}: {len(data)} of {len(view)} bytes")
        view[:] = data


class FileArray:
    """A 1-D little-endian array stored raw at `offset` in a source, read on demand."""

    def __init__(self, source: ByteSource, dtype: np.dtype, offset: int, size: int) -> None:
        self.source, self.dtype, self.offset, self.size = source, np.dtype(dtype), offset, size

    @classmethod
    def of(cls, source: ByteSource, stored: StoredArray) -> FileArray | None:
        """The array of a store's dataset when it is stored raw, else None."""
        if stored.offset is None:
            return None
        return cls(source, stored.dtype, stored.offset, stored.size)

    def read(self, lo: int, hi: int) -> np.ndarray:
        return self.read_into(np.empty(max(0, hi - lo), dtype=self.dtype), lo)

    def read_into(self, out: np.ndarray, lo: int) -> np.ndarray:
        """Fills `out` (this array's dtype) with elements lo, lo + 1, ...; returns it."""
        if lo < 0 or lo + out.size > self.size:
            raise IndexError(f"elements {lo}..{lo + out.size} outside an array of {self.size}")
        if out.size:
            self.source.read_into(memoryview(out).cast("B"), self.offset + lo * self.dtype.itemsize)
        return out

    def take_runs(self, starts: np.ndarray, lengths: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Elements [start, start + length) of each run (runs sorted by start), concatenated (into `out`)."""
        if out is None:
            out = np.empty(int(lengths.sum()), dtype=self.dtype)
        if out.size == 0:
            return out
        keep = lengths > 0
        starts, lengths = starts[keep], lengths[keep]
        ends = starts + lengths
        if self.source.local:
            self._take_local(out, starts, ends)
        else:
            self._take_remote(out, starts, ends)
        return out

    def _take_local(self, out: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        # Runs that touch are read together; the loop is the hot path of a scattered selection.
        new = np.ones(len(starts), dtype=bool)
        new[1:] = starts[1:] != ends[:-1]
        first = np.flatnonzero(new)
        merged_starts = starts[first]
        merged_ends = ends[np.append(first[1:], len(starts)) - 1]
        view = memoryview(out).cast("B")
        size = self.dtype.itemsize
        source, base, position = self.source, self.offset, 0
        fd = getattr(source, "fd", None)
        preadv = os.preadv
        for start, end in zip(merged_starts.tolist(), merged_ends.tolist(), strict=True):
            nbytes = (end - start) * size
            part = view[position : position + nbytes]
            if fd is None or preadv(fd, [part], base + start * size) != nbytes:
                source.read_into(part, base + start * size)
            position += nbytes

    def _take_remote(self, out: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        # Runs with small gaps between them share one range request; the gaps are read and dropped.
        size = self.dtype.itemsize
        gap = REMOTE_GAP_BYTES // size
        new = np.ones(len(starts), dtype=bool)
        new[1:] = starts[1:] - ends[:-1] > gap
        first = np.flatnonzero(new)
        last = np.append(first[1:], len(starts)) - 1
        position = 0
        for a, b in zip(first.tolist(), last.tolist(), strict=True):
            window = self.read(int(starts[a]), int(ends[b]))
            for start, end in zip(starts[a : b + 1].tolist(), ends[a : b + 1].tolist(), strict=True):
                out[position : position + end - start] = window[start - int(starts[a]) : end - int(starts[a])]
                position += end - start
