"""A light, read-only view of an ``.h5ad`` file through h5py: dataframes, uns, embeddings and matrices.

The validator never loads AnnData or pandas: obs/var columns are read as numpy arrays (categoricals as
codes + categories), and matrices are only described here and streamed in row (or column) chunks by
:mod:`cellportal.schema.rules.matrices`. Anything unexpected in the file's layout is reported by the rule
that needs it, never raised as a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np


class UnreadableFile(Exception):
    """The file is not an HDF5/h5ad file that can be opened at all."""


def open_h5ad(path: str) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except FileNotFoundError as error:
        raise UnreadableFile(f"no such file: {path}") from error
    except (OSError, ValueError) as error:
        raise UnreadableFile(f"not a readable HDF5/h5ad file ({error})") from error


def outside_references(file: h5py.File) -> list[str]:
    """Every element of ``file`` whose data lives in another file, described for a curator; [] if none.

    HDF5 lets an element be an external link to another HDF5 file, a dataset stored in external raw files,
    or a virtual dataset mapped onto other files. Reading such an element reads that other file, so a
    portal that follows it would publish a file of its own server. An upload must hold all its data; this
    walks the links without following any soft or external one.
    """
    found: list[str] = []

    def visit(name: str, link: h5py.HardLink | h5py.SoftLink | h5py.ExternalLink) -> None:
        if isinstance(link, h5py.SoftLink):
            return  # a path inside this file: whatever it names is visited through its own hard link
        if not isinstance(link, h5py.HardLink):
            kind = "an external link" if isinstance(link, h5py.ExternalLink) else "a user-defined link"
            found.append(f"'{name}' is {kind} to another file")
            return
        node = file[name]
        if isinstance(node, h5py.Dataset) and node.external:
            found.append(f"'{name}' stores its data in external files")
        elif isinstance(node, h5py.Dataset) and node.is_virtual:
            found.append(f"'{name}' is a virtual dataset mapped onto other data")

    file.visititems_links(visit)
    return found


def encoding_type(node: h5py.Group | h5py.Dataset) -> str:
    value = node.attrs.get("encoding-type", "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _is_string_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "OSU" or h5py.check_string_dtype(dtype) is not None


def read_strings(dataset: h5py.Dataset) -> np.ndarray:
    """A 1-d string dataset as an object array of ``str``."""
    if h5py.check_string_dtype(dataset.dtype) is not None:
        return np.asarray(dataset.asstr()[()], dtype=object)
    values = dataset[()]
    if values.dtype.kind == "S":
        return np.array([v.decode("utf-8", "replace") for v in values], dtype=object)
    return np.asarray(values, dtype=object)


@dataclass
class Column:
    """One dataframe column. ``kind`` is categorical, bool, numeric, string, nullable or unsupported."""

    name: str
    kind: str
    dtype_name: str  # the pandas dtype name a curator would see (category, bool, int64, object, ...)
    values: np.ndarray | None = None  # non-categorical values
    codes: np.ndarray | None = None
    categories: np.ndarray | None = None
    mask: np.ndarray | None = None  # nullable columns: True where missing
    ordered: bool = False

    def __len__(self) -> int:
        if self.codes is not None:
            return len(self.codes)
        return 0 if self.values is None else len(self.values)

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"

    def missing_rows(self) -> np.ndarray:
        """True where a row has no value (NaN category code, masked, or None)."""
        if self.is_categorical:
            assert self.codes is not None
            return self.codes < 0
        return np.array([v is None for v in self.row_values()], dtype=bool)

    def row_values(self) -> np.ndarray:
        """Per-row values as an object array, ``None`` where missing (NaN category code or masked)."""
        if self.is_categorical:
            assert self.codes is not None and self.categories is not None
            lookup = np.append(np.asarray(self.categories, dtype=object), None)
            codes = np.where(self.codes < 0, len(self.categories), self.codes)
            return lookup[codes]
        assert self.values is not None
        out = np.asarray(self.values, dtype=object).copy()
        if self.mask is not None:
            out[self.mask] = None
        if self.values.dtype.kind == "f":
            out[np.isnan(self.values)] = None
        return out

    def unique_values(self, rows: np.ndarray | None = None) -> list[Any]:
        """Distinct values (``None`` for missing, last), optionally within a row mask.

        Categoricals come in category order, other columns in order of first appearance."""
        if self.is_categorical:
            assert self.codes is not None and self.categories is not None
            codes = self.codes if rows is None else self.codes[rows]
            present = np.bincount(codes + 1, minlength=len(self.categories) + 1) > 0  # slot 0: missing
            found: list[Any] = [self.categories[c] for c in np.flatnonzero(present[1:])]
            return [*found, None] if present[0] else found
        values = self.row_values() if rows is None else self.row_values()[rows]
        seen: dict[Any, None] = {}
        for value in values:
            key = ("nan",) if value is None else value
            if key not in seen:
                seen[key] = None
        return [None if k == ("nan",) else k for k in seen]

    def factorize(self) -> tuple[list[Any], np.ndarray]:
        """(distinct values, per-row index into them); ``None`` stands for a missing value."""
        if self.is_categorical:
            assert self.codes is not None and self.categories is not None
            values = [*list(self.categories), None]
            return values, np.where(self.codes < 0, len(self.categories), self.codes)
        seen: dict[Any, int] = {}
        codes = np.array([seen.setdefault(v, len(seen)) for v in self.row_values().tolist()], dtype=np.int64)
        return list(seen), codes

    def has_missing(self) -> bool:
        if self.is_categorical:
            assert self.codes is not None
            return bool((self.codes < 0).any())
        if self.mask is not None and self.mask.any():
            return True
        return self.values is not None and self.values.dtype.kind == "f" and bool(np.isnan(self.values).any())

    def equals(self, value: Any) -> np.ndarray:
        """Boolean row mask of rows equal to ``value``."""
        if self.is_categorical:
            assert self.codes is not None and self.categories is not None
            matches = [i for i, c in enumerate(self.categories) if c == value]
            return np.isin(self.codes, matches) if matches else np.zeros(len(self.codes), dtype=bool)
        return np.asarray(self.row_values() == value, dtype=bool)

    def isin(self, values: set[Any] | frozenset[Any]) -> np.ndarray:
        if self.is_categorical:
            assert self.codes is not None and self.categories is not None
            matches = [i for i, c in enumerate(self.categories) if c in values]
            return np.isin(self.codes, matches) if matches else np.zeros(len(self.codes), dtype=bool)
        return np.array([v in values for v in self.row_values()], dtype=bool)


@dataclass
class Frame:
    """A dataframe read from an h5ad group: its index and columns in file order."""

    location: str
    index: np.ndarray
    columns: dict[str, Column] = field(default_factory=dict)
    column_order: list[str] = field(default_factory=list)  # as written, duplicates included
    problems: list[str] = field(default_factory=list)  # columns that could not be read, and why

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __len__(self) -> int:
        return len(self.index)


def _dtype_name(dtype: np.dtype) -> str:
    if dtype.kind in "OSU" or h5py.check_string_dtype(dtype) is not None:
        return "object"
    return np.dtype(dtype).name


def read_column(name: str, node: h5py.Group | h5py.Dataset) -> Column:
    kind = encoding_type(node)
    if isinstance(node, h5py.Group):
        if kind == "categorical":
            categories_node = node["categories"]
            if _is_string_dtype(categories_node.dtype):
                categories = read_strings(categories_node)
            else:
                categories = categories_node[()]
            return Column(
                name,
                "categorical",
                "category",
                codes=np.asarray(node["codes"][()]).astype(np.int64),
                categories=categories,
                ordered=bool(node.attrs.get("ordered", False)),
            )
        if kind in {"nullable-integer", "nullable-boolean", "nullable-string-array"}:
            values_node = node["values"]
            values = read_strings(values_node) if kind == "nullable-string-array" else values_node[()]
            mask = np.asarray(node["mask"][()], dtype=bool)
            names = {"nullable-integer": "Int64", "nullable-boolean": "boolean", "nullable-string-array": "string"}
            return Column(name, "nullable", names[kind], values=values, mask=mask)
        return Column(name, "unsupported", kind or "group")
    if _is_string_dtype(node.dtype):
        return Column(name, "string", "object", values=read_strings(node))
    values = node[()]
    if values.dtype == bool:
        return Column(name, "bool", "bool", values=values)
    if values.dtype.kind in "iuf":
        return Column(name, "numeric", values.dtype.name, values=values)
    return Column(name, "unsupported", _dtype_name(values.dtype), values=None)


def read_frame(group: h5py.Group, location: str) -> Frame:
    index_key = group.attrs.get("_index", "_index")
    index_key = index_key.decode() if isinstance(index_key, bytes) else str(index_key)
    index = read_strings(group[index_key]) if index_key in group else np.array([], dtype=object)
    order_attr = group.attrs.get("column-order", [])
    column_order = [c.decode() if isinstance(c, bytes) else str(c) for c in np.atleast_1d(order_attr)]
    frame = Frame(location, index=index, column_order=column_order)
    for name in column_order:
        if name in frame.columns or name not in group:
            continue
        try:
            frame.columns[name] = read_column(name, group[name])
        except (KeyError, OSError, ValueError, TypeError) as error:
            frame.problems.append(f"column '{name}' could not be read: {error}")
    return frame


@dataclass(frozen=True)
class Opaque:
    """An uns value stored as something other than a dict, scalar or array (a dataframe, a sparse matrix...)."""

    encoding: str
    shape: tuple[int, ...] | None = None


def read_uns_value(node: h5py.Group | h5py.Dataset) -> Any:
    kind = encoding_type(node)
    if isinstance(node, h5py.Group):
        if kind in {"dict", ""}:
            return {key: read_uns_value(node[key]) for key in node}
        shape = node.attrs.get("shape")
        return Opaque(kind, tuple(int(s) for s in shape) if shape is not None else None)
    if node.shape == ():
        value = node[()]
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if h5py.check_string_dtype(node.dtype) is not None:
            return node.asstr()[()]
        return value
    if _is_string_dtype(node.dtype):
        return read_strings(node) if node.ndim == 1 else np.asarray(node.asstr()[()], dtype=object)
    return node[()]


@dataclass
class Matrix:
    """An expression matrix: where it is, how it is encoded, and a way to stream it."""

    location: str
    format: str  # csr, csc, coo, dense or unknown
    shape: tuple[int, int] | None
    dtype: np.dtype | None
    node: h5py.Group | h5py.Dataset

    def row_chunks(self, nnz_budget: int = 2_000_000) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(start, stop, data, indices, indptr)`` row blocks in CSR form, whatever the storage.

        Dense blocks are converted to CSR (their zeros dropped). Each block holds about ``nnz_budget``
        stored values, so memory does not grow with the number of cells.
        """
        assert self.shape is not None
        n_rows, n_cols = self.shape
        if self.format == "csr":
            indptr_all = self.node["indptr"]
            data_node, indices_node = self.node["data"], self.node["indices"]
            # Read indptr in slices too: it is 8 bytes per cell.
            start = 0
            step_rows = 65_536
            while start < n_rows:
                window = np.asarray(indptr_all[start : min(n_rows, start + step_rows) + 1], dtype=np.int64)
                # Choose the block end so the block holds at most nnz_budget values (at least one row).
                limit = window[0] + nnz_budget
                stop_in_window = int(np.searchsorted(window, limit, side="right")) - 1
                stop_in_window = max(1, min(stop_in_window, len(window) - 1))
                stop = start + stop_in_window
                lo, hi = int(window[0]), int(window[stop_in_window])
                indptr = window[: stop_in_window + 1] - lo
                yield start, stop, data_node[lo:hi], indices_node[lo:hi], indptr
                start = stop
        elif self.format == "dense":
            rows_per_block = max(1, nnz_budget // max(1, n_cols))
            for start in range(0, n_rows, rows_per_block):
                stop = min(n_rows, start + rows_per_block)
                block = np.asarray(self.node[start:stop])
                if block.ndim != 2:
                    block = block.reshape(stop - start, -1)
                row_idx, col_idx = np.nonzero(block)
                indptr = np.zeros(stop - start + 1, dtype=np.int64)
                np.cumsum(np.bincount(row_idx, minlength=stop - start), out=indptr[1:])
                yield start, stop, block[row_idx, col_idx], col_idx, indptr
        else:
            raise ValueError(f"row streaming is not available for {self.format} matrices")

    def column_chunks(self, nnz_budget: int = 2_000_000) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """CSC storage: yield ``(data, row_indices, column_index_of_each_value)`` blocks."""
        assert self.format == "csc" and self.shape is not None
        indptr = np.asarray(self.node["indptr"][()], dtype=np.int64)
        n_cols = self.shape[1]
        start = 0
        while start < n_cols:
            limit = indptr[start] + nnz_budget
            stop = int(np.searchsorted(indptr, limit, side="right")) - 1
            stop = max(start + 1, min(stop, n_cols))
            lo, hi = int(indptr[start]), int(indptr[stop])
            counts = np.diff(indptr[start : stop + 1])
            columns = np.repeat(np.arange(start, stop), counts)
            yield self.node["data"][lo:hi], self.node["indices"][lo:hi], columns
            start = stop


def describe_matrix(node: h5py.Group | h5py.Dataset, location: str) -> Matrix:
    if isinstance(node, h5py.Dataset):
        if node.ndim == 2 and node.dtype.kind in "biuf":
            return Matrix(location, "dense", (int(node.shape[0]), int(node.shape[1])), node.dtype, node)
        return Matrix(location, "unknown", None, None, node)
    kind = encoding_type(node)
    fmt = {"csr_matrix": "csr", "csc_matrix": "csc", "coo_matrix": "coo"}.get(kind, "unknown")
    shape_attr = node.attrs.get("shape")
    shape = (int(shape_attr[0]), int(shape_attr[1])) if shape_attr is not None and len(shape_attr) == 2 else None
    dtype = node["data"].dtype if "data" in node and isinstance(node["data"], h5py.Dataset) else None
    if fmt in {"csr", "csc"} and (shape is None or dtype is None or "indptr" not in node or "indices" not in node):
        fmt = "unknown"
    return Matrix(location, fmt, shape, dtype, node)


@dataclass
class Embedding:
    key: str
    kind: str  # "array" or the encoding of whatever else it is
    shape: tuple[int, ...] | None
    dtype: np.dtype | None
    node: h5py.Group | h5py.Dataset
