"""Write an ``.h5ad`` file one block of rows at a time, in anndata's on-disk encoding.

Matrices (CSR or dense) and ``obsm`` arrays grow block by block, so a file with millions of cells never
holds its matrix in memory. Small elements (``obs``, ``var``, ``uns``…) are written whole with
``anndata.io.write_elem``, which stamps the encoding attributes anndata's readers expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np
from anndata.io import write_elem

_GROWTH_CHUNK = 1 << 16


def _dataset_options(compression: str | None) -> dict[str, Any]:
    return {"compression": compression} if compression else {}


def start_file(path: str, compression: str | None = None) -> h5py.File:
    """Open a new h5ad file with the root encoding attributes of anndata 0.8+ files."""
    handle = h5py.File(path, "w")
    handle.attrs["encoding-type"] = "anndata"
    handle.attrs["encoding-version"] = "0.1.0"
    return handle


class CsrAppender:
    """A ``csr_matrix`` element whose rows are appended block by block."""

    def __init__(self, parent: h5py.Group, key: str, shape: tuple[int, int], compression: str | None = None):
        self.group = parent.create_group(key)
        self.group.attrs["encoding-type"] = "csr_matrix"
        self.group.attrs["encoding-version"] = "0.1.0"
        self.group.attrs["shape"] = np.array(shape, dtype=np.int64)
        options = _dataset_options(compression)
        # scipy wants indices and indptr of one dtype; int32 whenever no offset can exceed it.
        index_dtype = np.int32 if shape[0] * shape[1] < np.iinfo(np.int32).max else np.int64
        self._data = self.group.create_dataset(
            "data", shape=(0,), maxshape=(None,), chunks=(_GROWTH_CHUNK,), dtype=np.float32, **options
        )
        self._indices = self.group.create_dataset(
            "indices", shape=(0,), maxshape=(None,), chunks=(_GROWTH_CHUNK,), dtype=index_dtype, **options
        )
        self._indptr = self.group.create_dataset("indptr", shape=(shape[0] + 1,), dtype=index_dtype, **options)
        self._indptr[0] = 0
        self._rows = 0
        self._nnz = 0

    def append(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        """Append rows given by a block-local ``indptr`` (starting at 0) and their entries."""
        n_rows = len(indptr) - 1
        end = self._nnz + len(data)
        self._data.resize((end,))
        self._indices.resize((end,))
        self._data[self._nnz : end] = data
        self._indices[self._nnz : end] = indices
        self._indptr[self._rows + 1 : self._rows + n_rows + 1] = indptr[1:] + self._nnz
        self._rows += n_rows
        self._nnz = end

    @property
    def nnz(self) -> int:
        return self._nnz


class DenseAppender:
    """A dense 2-D ``array`` element (a matrix or an ``obsm`` embedding) filled block by block."""

    def __init__(self, parent: h5py.Group, key: str, shape: tuple[int, int], compression: str | None = None):
        self.dataset = parent.create_dataset(key, shape=shape, dtype=np.float32, **_dataset_options(compression))
        self.dataset.attrs["encoding-type"] = "array"
        self.dataset.attrs["encoding-version"] = "0.2.0"
        self._rows = 0

    def append(self, rows: np.ndarray) -> None:
        self.dataset[self._rows : self._rows + len(rows)] = rows
        self._rows += len(rows)


def dict_group(parent: h5py.Group, key: str) -> h5py.Group:
    """An empty ``dict`` element, to be filled by appenders."""
    group = parent.create_group(key)
    group.attrs["encoding-type"] = "dict"
    group.attrs["encoding-version"] = "0.1.0"
    return group


def raw_group(parent: h5py.Group) -> h5py.Group:
    group = parent.create_group("raw")
    group.attrs["encoding-type"] = "raw"
    group.attrs["encoding-version"] = "0.1.0"
    return group


def write_elements(parent: h5py.Group, elements: Mapping[str, Any]) -> None:
    """Write whole elements (DataFrames, dicts, arrays) with anndata's own encoders."""
    for key, element in elements.items():
        write_elem(parent, key, element)
