"""What the explorer API reads from one explorer store, on top of `ExplorerStoreReader`.

The formats reader gives whole columns; the API also needs a gene as its sparse slice (no densifying on
the server), per-gene sums over a selection of cells (DE), and the view schema. Expression is read from
the store's two orientations: the gene-major CSC for genes and Wilcoxon, the cell-major CSR for
selection sums. Uncompressed arrays (in place, or the cache's copy, see mapped.py) are read with pread;
otherwise X is read through h5py, one block of rows at a time, so memory stays bounded either way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import h5py
import numpy as np
import scipy.sparse as sp

from cellportal.explorer.de import GroupMoments
from cellportal.explorer.mapped import FileArray, Mapped, RawFile, in_place
from cellportal.formats.explorer_store import ExplorerStoreReader

# Non-zeros read per block when summing a selection: bounds the temporary arrays (~25 bytes each).
BLOCK_NNZ = 2_000_000
# Within a block, selected rows are gathered one by one below this fraction, else the block is masked.
GATHER_BELOW = 0.15


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


def column_sums(
    indices: np.ndarray, data: np.ndarray, lengths: np.ndarray, n_cols: int, row_weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column sum, sum of squares and non-zero count of CSR rows (`lengths` non-zeros each), over the rows
    whose weight is 1 (all rows without weights). scipy's sparse products run these loops in C++, about
    eight times faster here than np.bincount with weights."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    shape = (len(lengths), n_cols)
    values = sp.csr_matrix((data, indices, indptr), shape=shape)
    squared = sp.csr_matrix((np.square(data, dtype=np.float64), indices, indptr), shape=shape)
    present = sp.csr_matrix((np.ones(len(data), dtype=np.float32), indices, indptr), shape=shape)
    if row_weights is None:
        row_weights = np.ones(len(lengths))
    return values.T @ row_weights, squared.T @ row_weights, present.T @ row_weights


class SparseAxis:
    """One orientation of X (`X/cell_major` or `X/gene_major`): indptr in memory, indices and data on disk.

    `indices` and `data` are h5py datasets (compressed chunks) or raw arrays read with pread (see mapped.py);
    `use_raw` switches to the latter when they become available.
    """

    def __init__(self, group: h5py.Group, raw_store: RawFile | None) -> None:
        self.indptr: np.ndarray = group["indptr"][()].astype(np.int64, copy=False)
        # (indices, data) as one attribute: the background cache swaps them while requests read, and a
        # request must never see one array of each kind.
        self.arrays: tuple[FileArray, FileArray] | tuple[h5py.Dataset, h5py.Dataset] = (group["indices"], group["data"])
        indices, data = in_place(group["indices"], raw_store), in_place(group["data"], raw_store)
        if indices is not None and data is not None:
            self.use_raw(indices, data)

    def use_raw(self, indices: FileArray, data: FileArray) -> None:
        self.arrays = (indices, data)

    @property
    def raw(self) -> bool:
        return isinstance(self.arrays[0], FileArray)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def slice(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = int(self.indptr[item]), int(self.indptr[item + 1])
        return self._read(self.arrays, lo, hi)

    @staticmethod
    def _read(arrays: tuple, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        if hi <= lo:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        indices, data = arrays
        if isinstance(indices, FileArray):
            return indices.read(lo, hi), data.read(lo, hi)
        return np.asarray(indices[lo:hi]), np.asarray(data[lo:hi])

    def gather(self, rows: np.ndarray, arrays: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and data of the given rows (sorted), concatenated; raw arrays only."""
        indices, data = arrays or self.arrays
        if not isinstance(indices, FileArray):
            raise TypeError("gathering scattered rows needs the uncompressed arrays")
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        return indices.take_runs(starts, lengths), data.take_runs(starts, lengths)

    def masked_sums(self, mask: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-column sum, sum of squares and non-zero count over the rows where `mask` is true."""
        total = np.zeros(n_cols, np.float64)
        squares = np.zeros(n_cols, np.float64)
        nnz = np.zeros(n_cols, np.float64)
        arrays = self.arrays  # one kind for the whole scan
        raw = isinstance(arrays[0], FileArray)
        for start, stop in self._blocks():
            rows = mask[start:stop]
            chosen = int(np.count_nonzero(rows))
            if chosen == 0:
                continue
            if raw and chosen < GATHER_BELOW * (stop - start):
                picked = np.flatnonzero(rows) + start
                indices, data = self.gather(picked, arrays)
                lengths = self.indptr[picked + 1] - self.indptr[picked]
                weights = None
            else:
                indices, data = self._read(arrays, int(self.indptr[start]), int(self.indptr[stop]))
                lengths = np.diff(self.indptr[start : stop + 1])
                weights = rows.astype(np.float64) if chosen < stop - start else None
            block_sum, block_squares, block_nnz = column_sums(indices, data, lengths, n_cols, weights)
            total += block_sum
            squares += block_squares
            nnz += block_nnz
        return total, squares, nnz.astype(np.int64)

    def _blocks(self) -> list[tuple[int, int]]:
        """Row ranges of about BLOCK_NNZ non-zeros each (a single dense row may exceed it)."""
        bounds = np.searchsorted(self.indptr, np.arange(0, self.indptr[-1], BLOCK_NNZ), side="right") - 1
        edges = np.unique(np.concatenate(([0], bounds, [len(self)])))
        return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


class ExplorerData:
    """One open store, with the small things the API needs on every request computed once."""

    def __init__(self, source: Path | BinaryIO) -> None:
        self.store = ExplorerStoreReader(source)
        self.n_cells = self.store.n_obs
        self.n_genes = self.store.n_vars
        # The formats reader keeps its h5py file private; the two sparse orientations are read through it
        # as laid out in docs/formats.md (a public accessor there would be better, see the handover note).
        handle: h5py.File = self.store._file
        raw_store = RawFile(source) if isinstance(source, Path) else None
        self.cells = SparseAxis(handle["X/cell_major"], raw_store)
        self.genes = SparseAxis(handle["X/gene_major"], raw_store)

    @property
    def raw(self) -> bool:
        """X is read uncompressed (in place, or from the cache's copy)."""
        return self.cells.raw and self.genes.raw

    def use_raw(self, arrays: Mapped) -> None:
        """Switch to uncompressed copies of X (see mapped.MatrixCache)."""
        for axis, target in (("cell_major", self.cells), ("gene_major", self.genes)):
            target.use_raw(*arrays[axis])

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
            dataset = self.store._file["embeddings"][name]
            if dataset.ndim == 2 and dataset.shape[1] >= 2:
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
        dataset = self.store._file["embeddings"][name.removeprefix("X_")]
        xy = dataset[:, :2].astype(np.float32, copy=False)
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
        total, squares, nnz = column_sums(*rows, self.n_genes)
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
