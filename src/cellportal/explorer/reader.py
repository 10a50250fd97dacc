"""What the explorer API reads from one explorer store, on top of `ExplorerStoreReader`.

The formats reader gives whole columns; the API also needs a gene as its sparse slice (no densifying on
the server), per-gene sums over a selection of cells (DE), and the view schema. Expression is read from
the store's two orientations: the gene-major CSC for genes and Wilcoxon, the cell-major CSR for
selection sums. A format 1.1 store's X is read in place with pread (or range GETs, see raw.py); a 1.0
store's compressed X through h5py, one block of rows at a time, so memory stays bounded either way.
"""

from __future__ import annotations

import itertools
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import h5py
import numpy as np
import scipy.sparse as sp

from cellportal.explorer.de import GroupMoments
from cellportal.explorer.raw import ByteSource, FileArray, LocalFile
from cellportal.formats.explorer_store import ExplorerStoreReader, SparseOrientation

# Non-zeros summed per block: bounds the working buffers (24 bytes each, 12 MB, reused between blocks and
# requests).
BLOCK_NNZ = 1 << 19
# Within a block, selected rows are gathered one by one below this fraction, else the block is read whole.
GATHER_BELOW = 0.15
# Workspaces kept between requests; more concurrent comparisons allocate their own and drop them after.
WORKSPACES_KEPT = 2


@dataclass(frozen=True)
class ObsSpec:
    name: str
    kind: str  # "categorical" | "continuous"
    categories: list[str] | None = None
    colors: list[str] | None = None
    min: float | None = None
    max: float | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "categorical":
            out["categories"] = self.categories
            out["colors"] = self.colors
        else:
            out["min"] = self.min
            out["max"] = self.max
        return out


class Workspace:
    """Buffers for summing one block of rows, reused: on this kind of machine a fresh 8 MB array costs more
    in page faults than summing a million values does."""

    def __init__(self, capacity: int | None = None) -> None:
        capacity = capacity or BLOCK_NNZ
        self.capacity = capacity
        self.indices = np.empty(capacity, np.int32)
        self.data = np.empty(capacity, np.float32)
        self.values = np.empty(capacity, np.float64)
        self.squares = np.empty(capacity, np.float64)
        self.ones = _ones(capacity)


_workspaces: queue.LifoQueue[Workspace] = queue.LifoQueue()
_shared_ones = np.ones(0)


def _ones(count: int) -> np.ndarray:
    """A read-only array of ones at least `count` long, shared by every workspace (counts non-zeros)."""
    global _shared_ones
    if len(_shared_ones) < count:
        _shared_ones = np.ones(count, np.float64)
        _shared_ones.flags.writeable = False
    return _shared_ones


@contextmanager
def workspace() -> Iterator[Workspace]:
    try:
        held = _workspaces.get_nowait()
    except queue.Empty:
        held = Workspace()
    try:
        yield held
    finally:
        if _workspaces.qsize() < WORKSPACES_KEPT:
            _workspaces.put(held)


class Sums:
    """Per-column sum, sum of squares and non-zero count, accumulated block by block."""

    def __init__(self, n_cols: int) -> None:
        self.n_cols = n_cols
        self.total = np.zeros(n_cols, np.float64)
        self.squares = np.zeros(n_cols, np.float64)
        self.nnz = np.zeros(n_cols, np.float64)

    def add(self, space: Workspace, count: int, indptr: np.ndarray, row_weights: np.ndarray | None) -> None:
        """Adds the rows held in `space` (its first `count` non-zeros, rows delimited by `indptr`), weighted
        by `row_weights` (0 or 1 per row; all rows when None).

        X' @ w over the block's rows: scipy's sparse product runs the loop in C++ without temporaries when
        every array has the same dtype, which is why the values are copied into float64 buffers first."""
        if count == 0:
            return
        n_rows = len(indptr) - 1
        indices = space.indices[:count]
        values, squares = space.values[:count], space.squares[:count]
        np.copyto(values, space.data[:count])
        np.multiply(values, values, out=squares)
        weights = np.ones(n_rows) if row_weights is None else row_weights
        shape = (n_rows, self.n_cols)
        for data, out in ((values, self.total), (squares, self.squares), (space.ones[:count], self.nnz)):
            out += sp.csr_matrix((data, indices, indptr), shape=shape, copy=False).T @ weights


def column_sums(
    indices: np.ndarray, data: np.ndarray, lengths: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column sum, sum of squares and non-zero count of CSR rows held in memory (`lengths` non-zeros each)."""
    sums = Sums(n_cols)
    with workspace() as space:
        row_ends = np.cumsum(lengths)
        row, done = 0, 0
        while row < len(lengths):
            # As many whole rows as fit the workspace (at least one; a longer row gets its own workspace).
            last = max(row + 1, int(np.searchsorted(row_ends, done + space.capacity, side="right")))
            end = int(row_ends[last - 1])
            block_space = space if end - done <= space.capacity else Workspace(end - done)
            count = end - done
            block_space.indices[:count] = indices[done:end]
            block_space.data[:count] = data[done:end]
            indptr = np.concatenate(([0], row_ends[row:last] - done)).astype(np.int32)
            sums.add(block_space, count, indptr, None)
            row, done = last, end
    return sums.total, sums.squares, sums.nnz


class SparseAxis:
    """One orientation of X (`cell_major` or `gene_major`): indptr in memory, indices and data in the file.

    Format 1.1 stores keep indices and data raw, read with pread or range GETs (`raw.FileArray`); 1.0 stores
    have them gzip-chunked and are read through h5py, a block of rows at a time.
    """

    def __init__(self, orientation: SparseOrientation, source: ByteSource | None) -> None:
        self.indptr: np.ndarray = orientation.indptr
        raw = (
            (FileArray.of(source, orientation.indices), FileArray.of(source, orientation.data))
            if source is not None
            else (None, None)
        )
        self.raw = raw[0] is not None and raw[1] is not None
        self.arrays: tuple[FileArray, FileArray] | tuple[h5py.Dataset, h5py.Dataset] = (
            raw if self.raw else (orientation.indices.dataset, orientation.data.dataset)  # type: ignore[assignment]
        )

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @cached_property
    def longest(self) -> int:
        """Non-zeros of the longest row."""
        return int(np.diff(self.indptr).max()) if len(self) else 0

    def slice(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = int(self.indptr[item]), int(self.indptr[item + 1])
        return self._read(lo, hi)

    def _read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        if hi <= lo:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        indices, data = self.arrays
        if isinstance(indices, FileArray):
            return indices.read(lo, hi), data.read(lo, hi)
        return np.asarray(indices[lo:hi]), np.asarray(data[lo:hi])

    def _read_into(self, space: Workspace, lo: int, hi: int) -> None:
        indices, data = self.arrays
        if isinstance(indices, FileArray):
            indices.read_into(space.indices[: hi - lo], lo)
            data.read_into(space.data[: hi - lo], lo)
        else:
            indices.read_direct(space.indices, np.s_[lo:hi], np.s_[0 : hi - lo])
            data.read_direct(space.data, np.s_[lo:hi], np.s_[0 : hi - lo])

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices and data of the given rows (sorted), concatenated; raw arrays only."""
        indices, data = self.arrays
        if not isinstance(indices, FileArray):
            raise TypeError("gathering scattered rows needs the raw arrays of a format 1.1 store")
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        return indices.take_runs(starts, lengths), data.take_runs(starts, lengths)

    def masked_sums(self, mask: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-column sum, sum of squares and non-zero count over the rows where `mask` is true."""
        sums = Sums(n_cols)
        with workspace() as space:
            for start, stop in self._blocks(space.capacity):
                rows = mask[start:stop]
                chosen = int(np.count_nonzero(rows))
                if chosen == 0:
                    continue
                if self.raw and chosen < GATHER_BELOW * (stop - start):
                    picked = np.flatnonzero(rows) + start
                    starts = self.indptr[picked]
                    lengths = self.indptr[picked + 1] - starts
                    count = int(lengths.sum())
                    indices, data = self.arrays
                    indices.take_runs(starts, lengths, out=space.indices[:count])  # type: ignore[call-arg]
                    data.take_runs(starts, lengths, out=space.data[:count])  # type: ignore[call-arg]
                    indptr = np.zeros(len(picked) + 1, np.int32)
                    np.cumsum(lengths, out=indptr[1:])
                    sums.add(space, count, indptr, None)
                else:
                    lo, hi = int(self.indptr[start]), int(self.indptr[stop])
                    block_space = space if hi - lo <= space.capacity else Workspace(hi - lo)
                    self._read_into(block_space, lo, hi)
                    indptr = (self.indptr[start : stop + 1] - lo).astype(np.int32)
                    weights = rows.astype(np.float64) if chosen < stop - start else None
                    sums.add(block_space, hi - lo, indptr, weights)
        return sums.total, sums.squares, sums.nnz.astype(np.int64)

    def _blocks(self, capacity: int) -> list[tuple[int, int]]:
        """Row ranges of at most `capacity` non-zeros each (a single longer row gets a range of its own)."""
        # A range starts at the row holding each multiple of `step`, so it may run one row past the next
        # multiple: stepping by capacity minus the longest row keeps every range within capacity.
        step = max(capacity - self.longest, capacity // 2)
        bounds = np.searchsorted(self.indptr, np.arange(0, self.indptr[-1], step), side="right") - 1
        edges = np.unique(np.concatenate(([0], bounds, [len(self)])))
        return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


class ExplorerData:
    """One open store, with the small things the API needs on every request computed once."""

    def __init__(self, source: Path | BinaryIO, raw_source: ByteSource | None = None) -> None:
        """`source` is what h5py opens (a path, or a file object over ranged reads); `raw_source` reads the
        same bytes by offset (a local path gets one here)."""
        self.store = ExplorerStoreReader(source)
        self.n_cells = self.store.n_obs
        self.n_genes = self.store.n_vars
        if raw_source is None and isinstance(source, Path):
            raw_source = LocalFile(source)
        self.cells = SparseAxis(self.store.orientation("cell_major"), raw_source)
        self.genes = SparseAxis(self.store.orientation("gene_major"), raw_source)

    @property
    def raw(self) -> bool:
        """X is read raw, by offset (a format 1.1 store), rather than through h5py's decompression."""
        return self.cells.raw and self.genes.raw

    def close(self) -> None:
        self.store.close()

    # --- schema -------------------------------------------------------------------------------------

    @cached_property
    def obs_specs(self) -> dict[str, ObsSpec]:
        specs: dict[str, ObsSpec] = {}
        for name in self.store.obs_column_names():
            column = self.store.obs_column(name)
            if column.kind == "categorical":
                specs[name] = ObsSpec(name, "categorical", list(column.categories or []), column.colors)
            elif column.kind == "bool":
                specs[name] = ObsSpec(name, "categorical", ["False", "True"], None)
            elif column.kind in ("int", "float"):
                values = column.values.astype(np.float32, copy=False)
                finite = values[np.isfinite(values)]
                lo = float(finite.min()) if finite.size else 0.0
                hi = float(finite.max()) if finite.size else 0.0
                specs[name] = ObsSpec(name, "continuous", min=lo, max=hi)
            # Free-text columns (a different string per cell) cannot colour a plot; they are left out.
        return specs

    @cached_property
    def embedding_names(self) -> list[str]:
        """obsm keys (`X_umap`, ...) of the embeddings with at least two dimensions."""
        names = []
        for name in self.store.embedding_names():
            shape = self.store.embedding_shape(name)
            if len(shape) == 2 and shape[1] >= 2:
                names.append(f"X_{name}")
        return names

    def schema(self) -> dict[str, Any]:
        embeddings = self.embedding_names
        default = self.store.metadata.get("default_embedding")
        if default not in embeddings:
            default = "X_umap" if "X_umap" in embeddings else (embeddings[0] if embeddings else None)
        return {
            "n_cells": self.n_cells,
            "n_genes": self.n_genes,
            "embeddings": [{"name": name} for name in embeddings],
            "default_embedding": default,
            "obs": [spec.as_json() for spec in self.obs_specs.values()],
            "store_format_version": self.store.format_version,
        }

    @cached_property
    def gene_symbols(self) -> list[str]:
        return [str(s) for s in self.store.var_names()]

    @cached_property
    def gene_ids(self) -> list[str]:
        return [str(s) for s in self.store.var_ids()]

    @cached_property
    def gene_lookup(self) -> dict[str, int]:
        """Upper-cased symbol or id -> var index; ids win over symbols, the first of duplicates wins."""
        lookup: dict[str, int] = {}
        for names in (self.gene_ids, self.gene_symbols):
            for index, name in enumerate(names):
                lookup.setdefault(name.upper(), index)
        return lookup

    @cached_property
    def totals(self) -> GroupMoments:
        stats = self.store.var_stats()
        return GroupMoments(self.n_cells, stats.sum, stats.sum_squares, stats.nnz.astype(np.int64))

    @cached_property
    def gene_range(self) -> tuple[np.ndarray, np.ndarray]:
        stats = self.store.var_stats()
        return stats.min, stats.max

    # --- columns ------------------------------------------------------------------------------------

    def embedding(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The first two dimensions of an embedding, as float32 x and y."""
        if name not in self.embedding_names:
            raise KeyError(name)
        xy = self.store.embedding(name, dims=2).astype(np.float32, copy=False)
        return np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])

    def obs_codes(self, name: str) -> np.ndarray:
        """Category codes of a categorical column, missing values coded as len(categories)."""
        spec = self.obs_specs[name]
        if spec.kind != "categorical":
            raise KeyError(name)
        assert spec.categories is not None
        raw = self.store.obs_column(name).values
        missing = len(spec.categories)
        code_type = np.uint8 if missing < 2**8 else np.uint16 if missing < 2**16 else np.int32
        codes = raw.astype(np.int64)
        codes[codes < 0] = missing
        return codes.astype(code_type)

    def obs_values(self, name: str) -> np.ndarray:
        spec = self.obs_specs[name]
        if spec.kind != "continuous":
            raise KeyError(name)
        return self.store.obs_column(name).values.astype(np.float32, copy=False)

    def gene(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """One gene's non-zero cells (uint32) and values (float32), read from the gene-major CSC."""
        if not 0 <= index < self.n_genes:
            raise IndexError(index)
        cells, values = self.genes.slice(index)
        return cells.astype(np.uint32, copy=False), values.astype(np.float32, copy=False)

    # --- selections ---------------------------------------------------------------------------------

    @cached_property
    def row_nnz(self) -> np.ndarray:
        """Non-zeros per cell (what reading a selection's rows costs)."""
        return np.diff(self.cells.indptr).astype(np.int32)

    def selected_rows(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gene indices, values and per-cell counts of every non-zero of the selected cells (cell-major rows)."""
        rows = np.flatnonzero(mask)
        indices, data = self.cells.gather(rows)
        return indices, data, self.row_nnz[rows]

    def moments_of_rows(self, rows: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> GroupMoments:
        total, squares, nnz = column_sums(rows[0], rows[1], rows[2], self.n_genes)
        return GroupMoments(n, total, squares, nnz.astype(np.int64))

    @staticmethod
    def values_of_genes(rows: tuple[np.ndarray, ...], genes: list[int], n_genes: int) -> list[np.ndarray]:
        """From a selection's rows, the non-zero values of each of `genes`."""
        position = np.full(n_genes, -1, dtype=np.int64)
        position[genes] = np.arange(len(genes))
        where = position[rows[0]]
        keep = where >= 0
        which, values = where[keep], rows[1][keep]
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(genes) + 1))
        return [values[order[a:b]] for a, b in itertools.pairwise(bounds)]

    def moments(self, mask: np.ndarray) -> GroupMoments:
        """Per-gene sums over the cells where `mask` is true.

        A selection of more than half of the cells is summed as its complement and taken from the totals,
        so no selection costs more than half the matrix.
        """
        chosen = int(np.count_nonzero(mask))
        if chosen > self.n_cells // 2:
            return self.totals - self.moments(~mask)
        total, squares, nnz = self.cells.masked_sums(mask, self.n_genes)
        return GroupMoments(chosen, total, squares, nnz)
