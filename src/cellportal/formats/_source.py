"""Bounded-memory reading of an .h5ad: matrices in row blocks, the small parts (obs, var, obsm, uns) whole.

Every converter reads through this, so none of them ever holds a whole expression matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata.io import read_elem

from cellportal.formats.conversion import ConversionError

# Non-zeros per block read from a matrix: 4 Mi × (4 B value + 4 B index) ≈ 32 MB, plus what the
# caller derives from it. Large enough that HDF5 reads are efficient, small enough to stay flat.
DEFAULT_BLOCK_NNZ = 4 * 1024 * 1024


@dataclass
class RowBlock:
    start: int
    stop: int
    matrix: sp.csr_matrix  # rows start..stop, all columns, canonical (sorted indices)


class SparseRows:
    """Row access to a cells × genes matrix stored as CSR (or dense) in an h5ad, one block at a time."""

    def __init__(self, node: h5py.Group | h5py.Dataset, where: str) -> None:
        self.where = where
        self._node = node
        if isinstance(node, h5py.Dataset):
            if node.ndim != 2:
                raise ConversionError(f"{where} is a {node.ndim}-dimensional array; expected a 2-D matrix")
            self.shape = (int(node.shape[0]), int(node.shape[1]))
            self.dense = True
            self.dtype = node.dtype
            self._indptr: np.ndarray | None = None
        else:
            encoding = _attr_str(node.attrs.get("encoding-type", ""))
            if encoding == "csc_matrix":
                raise ConversionError(
                    f"{where} is stored column-major (CSC); the download formats are built from a row-major "
                    "(CSR) matrix. Re-save the file with X as a CSR matrix (scipy.sparse.csr_matrix)."
                )
            if encoding != "csr_matrix":
                raise ConversionError(f"{where} has encoding {encoding!r}; expected a CSR sparse matrix")
            self.shape = tuple(int(v) for v in node.attrs["shape"])  # type: ignore[assignment]
            self.dense = False
            self.dtype = node["data"].dtype
            # The row pointer is the one per-cell array we keep: 8 bytes a cell.
            self._indptr = node["indptr"][()].astype(np.int64, copy=False)

    @property
    def n_rows(self) -> int:
        return self.shape[0]

    @property
    def n_cols(self) -> int:
        return self.shape[1]

    @property
    def nnz(self) -> int:
        if self._indptr is not None:
            return int(self._indptr[-1])
        return sum(int(b.matrix.nnz) for b in self.blocks())

    def row_nnz(self) -> np.ndarray:
        """Non-zeros per row (int64)."""
        if self._indptr is not None:
            return np.diff(self._indptr)
        out = np.empty(self.n_rows, dtype=np.int64)
        for block in self.blocks():
            out[block.start : block.stop] = np.diff(block.matrix.indptr)
        return out

    def rows(self, start: int, stop: int) -> sp.csr_matrix:
        """Rows start..stop as a canonical CSR matrix."""
        if self.dense:
            dense = self._node[start:stop]
            return sp.csr_matrix(dense)
        assert self._indptr is not None
        lo, hi = int(self._indptr[start]), int(self._indptr[stop])
        data = self._node["data"][lo:hi]
        indices = self._node["indices"][lo:hi]
        indptr = self._indptr[start : stop + 1] - lo
        block = sp.csr_matrix((data, indices, indptr), shape=(stop - start, self.n_cols))
        if not block.has_sorted_indices:
            block.sort_indices()
        return block

    def block_bounds(self, max_nnz: int = DEFAULT_BLOCK_NNZ, multiple_of: int = 1) -> Iterator[tuple[int, int]]:
        """Row ranges holding at most about `max_nnz` non-zeros (at least `multiple_of` rows each)."""
        n = self.n_rows
        if self.dense:
            step = max(multiple_of, (max_nnz // max(1, self.n_cols)) // multiple_of * multiple_of)
            for start in range(0, n, step):
                yield start, min(n, start + step)
            return
        assert self._indptr is not None
        start = 0
        while start < n:
            target = self._indptr[start] + max_nnz
            stop = int(np.searchsorted(self._indptr, target, side="right")) - 1
            stop = max(stop, start + 1)
            if multiple_of > 1:
                stop = max(start + multiple_of, (stop - start) // multiple_of * multiple_of + start)
            stop = min(stop, n)
            yield start, stop
            start = stop

    def blocks(self, max_nnz: int = DEFAULT_BLOCK_NNZ, multiple_of: int = 1) -> Iterator[RowBlock]:
        for start, stop in self.block_bounds(max_nnz, multiple_of):
            yield RowBlock(start, stop, self.rows(start, stop))


class H5adSource:
    """An .h5ad opened read-only; matrices are read in row blocks, everything else whole."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as error:
            raise ConversionError(f"the file could not be opened as HDF5 (.h5ad): {error}") from error
        if "X" not in self.file or "obs" not in self.file or "var" not in self.file:
            self.close()
            raise ConversionError("the file is not an AnnData .h5ad: it lacks X, obs or var")

    def __enter__(self) -> H5adSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    @property
    def has_raw(self) -> bool:
        return "raw" in self.file and "X" in self.file["raw"]

    def x(self) -> SparseRows:
        rows = SparseRows(self.file["X"], "X")
        self._check_shape(rows, "X")
        return rows

    def counts(self) -> SparseRows:
        """The raw counts: raw.X when present, else X (the schema says X then holds the raw counts)."""
        if not self.has_raw:
            return self.x()
        rows = SparseRows(self.file["raw/X"], "raw.X")
        self._check_shape(rows, "raw.X")
        return rows

    def _check_shape(self, rows: SparseRows, where: str) -> None:
        n_obs, n_vars = self.n_obs, self.n_vars
        if rows.shape != (n_obs, n_vars):
            raise ConversionError(
                f"{where} has shape {rows.shape} but obs × var is {(n_obs, n_vars)}; the download formats "
                "need raw.X and X over the same genes"
            )

    @property
    def n_obs(self) -> int:
        return _index_length(self.file["obs"])

    @property
    def n_vars(self) -> int:
        return _index_length(self.file["var"])

    def obs(self) -> pd.DataFrame:
        return read_elem(self.file["obs"])

    def var(self) -> pd.DataFrame:
        return read_elem(self.file["var"])

    def embeddings(self) -> dict[str, np.ndarray]:
        """Dense obsm arrays (n_obs × k, k ≥ 1), keyed as in the file (e.g. `X_umap`)."""
        out: dict[str, np.ndarray] = {}
        if "obsm" not in self.file:
            return out
        for key, node in self.file["obsm"].items():
            if isinstance(node, h5py.Dataset) and node.ndim == 2 and np.issubdtype(node.dtype, np.number):
                out[key] = node[()]
        return out

    def uns_scalars(self) -> dict[str, Any]:
        """uns entries that are one string, number or bool, and lists of strings (e.g. batch_condition)."""
        out: dict[str, Any] = {}
        if "uns" not in self.file:
            return out
        for key, node in self.file["uns"].items():
            if not isinstance(node, h5py.Dataset) or node.size > 10_000:
                continue
            value = read_elem(node)
            if isinstance(value, bytes):
                value = value.decode()
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, np.ndarray):
                if value.dtype.kind in "OUS":
                    value = [v.decode() if isinstance(v, bytes) else str(v) for v in value.ravel()]
                else:
                    value = value.tolist()
            out[key] = value
        return out

    def uns_colors(self) -> dict[str, list[str]]:
        """`<obs column>_colors` arrays from uns (the explorer's category colours)."""
        scalars = self.uns_scalars()
        return {
            k.removesuffix("_colors"): v
            for k, v in scalars.items()
            if k.endswith("_colors") and isinstance(v, list) and all(isinstance(c, str) for c in v)
        }


def _index_length(group: h5py.Group) -> int:
    index_name = _attr_str(group.attrs.get("_index", "_index"))
    return int(group[index_name].shape[0])


def _attr_str(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def column_kind(series: pd.Series) -> str:
    """How a column is stored by our writers: categorical, bool, integer, float or string."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "string"


def as_strings(series: pd.Series, missing: str | None = "") -> list[str | None]:
    """A column's values as Python strings (categoricals resolved), `missing` where a value is absent.

    Vectorised over the column: a per-element `pd.isna` costs seconds at a few hundred thousand cells.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        labels = np.array([str(c) for c in series.cat.categories] + [missing], dtype=object)
        codes = series.cat.codes.to_numpy()
        return labels[np.where(codes < 0, len(labels) - 1, codes)].tolist()
    values = series.astype(object).to_numpy()
    absent = pd.isna(values)
    out = values.astype(str).astype(object)
    out[absent] = missing
    return out.tolist()
