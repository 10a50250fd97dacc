"""The explorer store: one HDF5 file holding what the hosted explorer reads, laid out for small reads.

The layout is specified in docs/formats.md ("cellportal-explorer-store", version below, stamped in the
root attributes `format` and `format_version`). In short:

    /                    attrs format, format_version, n_obs, n_vars, nnz, dataset_version_id, metadata (JSON)
    /obs_names           str[n_obs]
    /obs/<name>/         one group per obs column (name percent-quoted), attrs kind, name
        values           categorical: int8|int16|int32 codes (-1 missing); bool: uint8; int: int32;
                         float: float32; string: str
        categories       str[k] (categorical only);  colors  str[k] (when uns has <name>_colors)
    /var/feature_name    str[n_vars]            /var/feature_id  str[n_vars] (the var index)
    /X/cell_major/       CSR of X: indptr int64[n_obs+1], indices int32 (gene), data float32
    /X/gene_major/       CSC of X: indptr int64[n_vars+1], indices int32 (cell), data float32
                         (1.1: indices and data contiguous and uncompressed, so any slice is one pread or
                         one range GET at a known byte offset; 1.0 stores have them gzip-chunked)
    /var_stats/          per gene over all cells: nnz int64, sum, sum_squares, mean, variance (float64),
                         min, max (float32, counting the implicit zeros)
    /embeddings/<name>   float32[n_obs, k], one per obsm `X_<name>`

The writer is `cellportal.formats._explorer_store_writer`; this module holds the reader the explorer
API builds on. It opens a local path or any binary file-like object (e.g. a ranged-GET reader over S3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import h5py
import numpy as np
import scipy.sparse as sp

from cellportal.formats.conversion import ConversionContext, ConversionResult

FORMAT_NAME = "cellportal-explorer-store"
FORMAT_VERSION = "1.1.0"
# X orientations, as named in the file.
AXES = ("cell_major", "gene_major")
# Metadata and small datasets are aggregated into pages this large, so a remote reader fetches the
# file's structure in a few range requests instead of hundreds of tiny ones.
PAGE_SIZE = 1024 * 1024


def convert(source: Path, dest: Path, ctx: ConversionContext) -> ConversionResult:
    from cellportal.formats._explorer_store_writer import write_explorer_store

    write_explorer_store(source, dest, ctx)
    return ConversionResult.converted()


def column_key(name: str) -> str:
    """The HDF5 member name of an obs column: percent-quoted, since '/' and '.' alone are not usable."""
    key = quote(str(name), safe="")
    return key if key not in (".", "..") else quote(key.replace(".", "%2E"), safe="%")


@dataclass(frozen=True)
class ObsColumn:
    name: str
    kind: str  # categorical | bool | int | float | string
    values: np.ndarray  # codes (-1 = missing) for categorical columns
    categories: list[str] | None = None
    colors: list[str] | None = None

    def labels(self) -> np.ndarray:
        """Per-cell values with categories resolved (missing → None)."""
        if self.categories is None:
            return self.values
        lookup = np.array([*self.categories, None], dtype=object)
        return lookup[np.where(self.values < 0, len(self.categories), self.values)]


@dataclass(frozen=True)
class VarStats:
    nnz: np.ndarray
    sum: np.ndarray
    sum_squares: np.ndarray
    mean: np.ndarray
    variance: np.ndarray  # sample variance (n - 1) over all cells
    min: np.ndarray
    max: np.ndarray


@dataclass(frozen=True)
class StoredArray:
    """One of X's 1-D arrays: the h5py dataset, and where its bytes are when stored raw.

    `offset` is the byte offset of element 0 in the file when the array is contiguous and uncompressed
    (format 1.1), so element i is at offset + i * dtype.itemsize; None when it is chunked (format 1.0)."""

    dataset: h5py.Dataset
    offset: int | None

    @property
    def dtype(self) -> np.dtype:
        return self.dataset.dtype

    @property
    def size(self) -> int:
        return int(self.dataset.size)


@dataclass(frozen=True)
class SparseOrientation:
    """X in one orientation: `indptr` in memory, `indices` and `data` left in the file."""

    indptr: np.ndarray  # int64
    indices: StoredArray
    data: StoredArray


class StoreFormatError(ValueError):
    """The file is not an explorer store this reader understands."""


class ExplorerStoreReader:
    """Read access to one explorer store; every method reads only what it returns."""

    def __init__(self, source: str | Path | BinaryIO, page_buffer_bytes: int = 16 * PAGE_SIZE) -> None:
        target = str(source) if isinstance(source, str | Path) else source
        try:
            self._file = h5py.File(target, "r", page_buf_size=page_buffer_bytes)
        except (OSError, ValueError):
            # A file written without paged aggregation cannot use the page buffer.
            self._file = h5py.File(target, "r")
        attrs = self._file.attrs
        if _text(attrs.get("format", "")) != FORMAT_NAME:
            raise StoreFormatError(f"not a {FORMAT_NAME} file")
        version = _text(attrs["format_version"])
        if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
            raise StoreFormatError(f"{FORMAT_NAME} version {version} is not readable by this reader")
        self.format_version = version
        self.n_obs = int(attrs["n_obs"])
        self.n_vars = int(attrs["n_vars"])
        self.nnz = int(attrs["nnz"])
        self.metadata: dict[str, Any] = json.loads(_text(attrs["metadata"]))
        self._gene_ptr: np.ndarray | None = None
        self._cell_ptr: np.ndarray | None = None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ExplorerStoreReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- names --------------------------------------------------------------------------------

    def obs_names(self) -> np.ndarray:
        return self._file["obs_names"].asstr()[()]

    def var_names(self) -> np.ndarray:
        """Gene symbols (feature_name), in var order."""
        return self._file["var/feature_name"].asstr()[()]

    def var_ids(self) -> np.ndarray:
        """Gene ids (the var index, e.g. Ensembl ids), in var order."""
        return self._file["var/feature_id"].asstr()[()]

    # --- expression ---------------------------------------------------------------------------

    def gene_expression(self, var_index: int) -> np.ndarray:
        """X for one gene across all cells, dense float32[n_obs] (one small read of the CSC)."""
        if not 0 <= var_index < self.n_vars:
            raise IndexError(f"gene index {var_index} outside 0..{self.n_vars - 1}")
        if self._gene_ptr is None:
            self._gene_ptr = self._file["X/gene_major/indptr"][()]
        lo, hi = int(self._gene_ptr[var_index]), int(self._gene_ptr[var_index + 1])
        out = np.zeros(self.n_obs, dtype=np.float32)
        if hi > lo:
            group = self._file["X/gene_major"]
            out[group["indices"][lo:hi]] = group["data"][lo:hi]
        return out

    def cell_expression(self, start: int, stop: int) -> sp.csr_matrix:
        """X for cells start..stop across all genes, as CSR (one contiguous read of the CSR)."""
        if self._cell_ptr is None:
            self._cell_ptr = self._file["X/cell_major/indptr"][()]
        stop = min(stop, self.n_obs)
        lo, hi = int(self._cell_ptr[start]), int(self._cell_ptr[stop])
        group = self._file["X/cell_major"]
        indptr = self._cell_ptr[start : stop + 1] - lo
        return sp.csr_matrix((group["data"][lo:hi], group["indices"][lo:hi], indptr), shape=(stop - start, self.n_vars))

    def cells_expression(self, obs_indices: np.ndarray) -> sp.csr_matrix:
        """X for any set of cells across all genes, rows in the given order.

        Consecutive cells are read together, so a selection made of a few ranges costs a few reads.
        """
        obs_indices = np.asarray(obs_indices, dtype=np.int64)
        if obs_indices.size == 0:
            return sp.csr_matrix((0, self.n_vars), dtype=np.float32)
        order = np.unique(obs_indices)
        breaks = np.flatnonzero(np.diff(order) != 1) + 1
        runs = [self.cell_expression(int(run[0]), int(run[-1]) + 1) for run in np.split(order, breaks)]
        stacked = sp.vstack(runs, format="csr")
        return stacked[np.searchsorted(order, obs_indices)]

    def orientation(self, axis: str) -> SparseOrientation:
        """X as CSR (`cell_major`) or CSC (`gene_major`), for callers that read slices themselves."""
        if axis not in AXES:
            raise ValueError(f"axis must be one of {AXES}")
        group = self._file["X"][axis]
        return SparseOrientation(
            group["indptr"][()].astype(np.int64, copy=False), _stored(group["indices"]), _stored(group["data"])
        )

    def selection_sums(self, obs_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Per-gene sum and sum of squares of X over a selection of cells, and the selection's size.

        With `var_stats()` totals, the rest of the cells' sums are a subtraction away (Welch's t-test).
        """
        block = self.cells_expression(np.unique(np.asarray(obs_indices, dtype=np.int64))).astype(np.float64)
        total = np.asarray(block.sum(axis=0), dtype=np.float64).ravel()
        squares = np.asarray(block.multiply(block).sum(axis=0), dtype=np.float64).ravel()
        return total, squares, block.shape[0]

    # --- annotations --------------------------------------------------------------------------

    def obs_column_names(self) -> list[str]:
        return json.loads(_text(self._file["obs"].attrs["column_names"]))

    def obs_column(self, name: str) -> ObsColumn:
        try:
            group = self._file["obs"][column_key(name)]
        except KeyError:
            raise KeyError(f"no obs column {name!r}") from None
        kind = _text(group.attrs["kind"])
        values = group["values"]
        data = values.asstr()[()] if kind == "string" else values[()]
        categories = group["categories"].asstr()[()].tolist() if "categories" in group else None
        colors = group["colors"].asstr()[()].tolist() if "colors" in group else None
        return ObsColumn(name, kind, data, categories, colors)

    def embedding_names(self) -> list[str]:
        return list(self._file["embeddings"].keys())

    def embedding(self, name: str, dims: int | None = None) -> np.ndarray:
        """float32[n_obs, k] for an embedding named with or without its `X_` prefix (e.g. `umap`); only its
        first `dims` dimensions when given."""
        dataset = self._embedding_dataset(name)
        return dataset[()] if dims is None else dataset[:, :dims]

    def embedding_shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._embedding_dataset(name).shape)

    def _embedding_dataset(self, name: str) -> h5py.Dataset:
        try:
            return self._file["embeddings"][name.removeprefix("X_")]
        except KeyError:
            raise KeyError(f"no embedding {name!r}; have {self.embedding_names()}") from None

    def var_stats(self) -> VarStats:
        g = self._file["var_stats"]
        return VarStats(**{field: g[field][()] for field in VarStats.__dataclass_fields__})


def _stored(dataset: h5py.Dataset) -> StoredArray:
    raw = dataset.chunks is None and dataset.compression is None and dataset.dtype.byteorder in ("<", "=", "|")
    offset = dataset.id.get_offset() if raw else None
    if raw and offset is None and dataset.size == 0:
        offset = 0  # an empty array has no storage: nothing will be read from it
    return StoredArray(dataset, None if offset is None else int(offset))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
