"""Writes the explorer store (layout in explorer_store.py and docs/formats.md) in bounded memory.

Pass 1 streams X's CSR row blocks and counts non-zeros per cell and per gene (with per-gene sums). The
counts fix every offset of both orientations, so the four X arrays are allocated contiguous and
uncompressed up front. Pass 2 reads the row blocks again: each block's rows are written at their offset in
the cell-major CSR, and the block, made column-major, scatters each gene's slice to that gene's cursor in the
gene-major CSC (positional writes: no part of either matrix is held whole, the OS page cache buffers the
writes). Memory is one block plus a few per-gene and per-cell vectors; no scratch files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from cellportal.formats._source import DEFAULT_BLOCK_NNZ, H5adSource, SparseRows, as_strings, column_kind
from cellportal.formats.conversion import ConversionContext, ConversionError
from cellportal.formats.explorer_store import FORMAT_NAME, FORMAT_VERSION, PAGE_SIZE, column_key

STRING = h5py.string_dtype("utf-8")


def write_explorer_store(source: Path, dest: Path, ctx: ConversionContext, block_nnz: int = DEFAULT_BLOCK_NNZ) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with (
            H5adSource(source) as h5ad,
            h5py.File(tmp, "w", libver="latest", fs_strategy="page", fs_page_size=PAGE_SIZE) as out,
        ):
            _write(h5ad, out, ctx, block_nnz, path=tmp)
        os.replace(tmp, dest)
    except OSError as error:
        raise ConversionError(f"writing the explorer store failed: {error}") from error
    finally:
        tmp.unlink(missing_ok=True)


def _write(h5ad: H5adSource, out: h5py.File, ctx: ConversionContext, block_nnz: int, path: Path) -> None:
    x = h5ad.x()
    n_obs, n_vars = x.shape
    obs = h5ad.obs()
    var = h5ad.var()
    uns = h5ad.uns_scalars()

    out.create_dataset("obs_names", data=np.array([str(v) for v in obs.index], dtype=object), dtype=STRING)
    _write_obs(out.create_group("obs"), obs, h5ad.uns_colors())
    var_group = out.create_group("var")
    symbols = var["feature_name"] if "feature_name" in var.columns else var.index.to_series()
    var_group.create_dataset("feature_name", data=np.array([str(v) for v in symbols], dtype=object), dtype=STRING)
    var_group.create_dataset("feature_id", data=np.array([str(v) for v in var.index], dtype=object), dtype=STRING)

    embeddings = out.create_group("embeddings")
    for key, embedding in h5ad.embeddings().items():
        if key.startswith("X_") and embedding.shape[0] == n_obs:
            dataset = embeddings.create_dataset(key.removeprefix("X_"), data=embedding.astype(np.float32))
            dataset.attrs["obsm_key"] = key

    row_nnz, gene_nnz, sums, squares = _count_nonzeros(x, block_nnz)
    nnz = int(gene_nnz.sum())
    gene_min, gene_max = _write_x(out, path, x, row_nnz, gene_nnz, block_nnz)
    _write_stats(out.create_group("var_stats"), n_obs, gene_nnz, sums, squares, gene_min, gene_max)

    metadata = {k: v for k, v in uns.items() if not k.endswith("_colors")}
    metadata["citation"] = ctx.citation("h5ad")
    out.attrs["format"] = FORMAT_NAME
    out.attrs["format_version"] = FORMAT_VERSION
    out.attrs["n_obs"] = n_obs
    out.attrs["n_vars"] = n_vars
    out.attrs["nnz"] = nnz
    out.attrs["dataset_version_id"] = ctx.dataset_version_id
    out.attrs["metadata"] = json.dumps(metadata, sort_keys=True, default=str)


def _raw_array(group: h5py.Group, name: str, dtype: type, length: int) -> tuple[h5py.Dataset, int]:
    """A contiguous, uncompressed dataset whose file space is allocated now; returns it and its byte offset.

    Its bytes are then written with pwrite at that offset (HDF5 never touches them again: no fill value is
    written, and the dataset is not written through the library), which is what lets readers pread any slice.
    """
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.CONTIGUOUS)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    space = h5py.h5s.create_simple((max(length, 0),), (max(length, 0),))
    type_id = h5py.h5t.py_create(np.dtype(dtype).newbyteorder("<"))
    dataset = h5py.Dataset(h5py.h5d.create(group.id, name.encode(), type_id, space, dcpl=dcpl))
    offset = dataset.id.get_offset()
    if offset is None:  # an empty array has no storage
        offset = -1
    return dataset, int(offset)


def _count_nonzeros(x: SparseRows, block_nnz: int) -> tuple[np.ndarray, ...]:
    """Pass 1: non-zeros per cell (explicit zeros dropped) and per gene, and per-gene sums and sums of squares."""
    n_obs, n_vars = x.shape
    row_nnz = np.zeros(n_obs, dtype=np.int64)
    gene_nnz = np.zeros(n_vars, dtype=np.int64)
    sums = np.zeros(n_vars, dtype=np.float64)
    squares = np.zeros(n_vars, dtype=np.float64)
    for block in x.blocks(block_nnz):
        m = block.matrix
        m.eliminate_zeros()
        row_nnz[block.start : block.stop] = np.diff(m.indptr)
        gene_nnz += np.bincount(m.indices, minlength=n_vars)
        as64 = m.data.astype(np.float32, copy=False).astype(np.float64)
        sums += np.bincount(m.indices, weights=as64, minlength=n_vars)
        squares += np.bincount(m.indices, weights=as64 * as64, minlength=n_vars)
    return row_nnz, gene_nnz, sums, squares


def _write_x(
    out: h5py.File, path: Path, x: SparseRows, row_nnz: np.ndarray, gene_nnz: np.ndarray, block_nnz: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pass 2: both orientations, written in place. Each block's rows go to the CSR at their offset; the
    block, made column-major, scatters each gene's slice to its cursor in the CSC. No part of either matrix
    is held whole: memory is one block plus per-gene and per-cell vectors; the OS page cache buffers the writes.
    Returns per-gene min and max of the non-zeros."""
    n_obs, n_vars = x.shape
    nnz = int(gene_nnz.sum())
    cell_ptr = np.zeros(n_obs + 1, dtype=np.int64)
    np.cumsum(row_nnz, out=cell_ptr[1:])
    gene_ptr = np.zeros(n_vars + 1, dtype=np.int64)
    np.cumsum(gene_nnz, out=gene_ptr[1:])
    cells_group, genes_group = out.create_group("X/cell_major"), out.create_group("X/gene_major")
    cells_group.create_dataset("indptr", data=cell_ptr)
    genes_group.create_dataset("indptr", data=gene_ptr)
    _, cell_indices_at = _raw_array(cells_group, "indices", np.int32, nnz)
    _, cell_data_at = _raw_array(cells_group, "data", np.float32, nnz)
    _, gene_indices_at = _raw_array(genes_group, "indices", np.int32, nnz)
    _, gene_data_at = _raw_array(genes_group, "data", np.float32, nnz)
    out.flush()
    cursor = gene_ptr[:-1].copy()
    gene_min = np.full(n_vars, np.inf, dtype=np.float32)
    gene_max = np.full(n_vars, -np.inf, dtype=np.float32)
    fd = os.open(path, os.O_WRONLY)
    try:
        for block in x.blocks(block_nnz):
            m = block.matrix
            m.eliminate_zeros()
            if not np.array_equal(np.diff(m.indptr), row_nnz[block.start : block.stop]):
                raise ConversionError("X changed while the explorer store was written (non-zero counts differ)")
            m.sort_indices()
            if m.nnz == 0:
                continue
            at = int(cell_ptr[block.start]) * 4
            _pwrite(fd, m.indices.astype("<i4", copy=False), cell_indices_at + at)
            _pwrite(fd, m.data.astype("<f4", copy=False), cell_data_at + at)
            csc = m.tocsc()  # row (cell) indices come out sorted within each gene
            values = csc.data.astype("<f4", copy=False)
            cells = (csc.indices.astype(np.int64) + block.start).astype("<i4")
            counts = np.diff(csc.indptr)
            present = np.flatnonzero(counts)
            starts = csc.indptr[present]
            gene_min[present] = np.minimum(gene_min[present], np.minimum.reduceat(values, starts))
            gene_max[present] = np.maximum(gene_max[present], np.maximum.reduceat(values, starts))
            for g in present.tolist():
                lo, hi = int(csc.indptr[g]), int(csc.indptr[g + 1])
                offset = int(cursor[g]) * 4
                _pwrite(fd, values[lo:hi], gene_data_at + offset)
                _pwrite(fd, cells[lo:hi], gene_indices_at + offset)
                cursor[g] += hi - lo
        if not np.array_equal(cursor, gene_ptr[1:]):
            raise ConversionError("X changed while the explorer store was written (non-zero counts differ)")
    finally:
        os.close(fd)
    return gene_min, gene_max


def _pwrite(fd: int, array: np.ndarray, offset: int) -> None:
    view = memoryview(np.ascontiguousarray(array)).cast("B")
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], offset + done)


def _write_stats(
    group: h5py.Group,
    n_obs: int,
    gene_nnz: np.ndarray,
    sums: np.ndarray,
    squares: np.ndarray,
    gene_min: np.ndarray,
    gene_max: np.ndarray,
) -> None:
    has_zero = gene_nnz < n_obs  # the implicit zeros count in min and max
    gene_min = np.where(has_zero, np.minimum(gene_min, 0), gene_min).astype(np.float32)
    gene_max = np.where(has_zero, np.maximum(gene_max, 0), gene_max).astype(np.float32)
    mean = sums / max(1, n_obs)
    variance = (squares - n_obs * mean * mean) / max(1, n_obs - 1)
    group.create_dataset("nnz", data=gene_nnz)
    group.create_dataset("sum", data=sums)
    group.create_dataset("sum_squares", data=squares)
    group.create_dataset("mean", data=mean)
    group.create_dataset("variance", data=np.maximum(variance, 0.0))
    group.create_dataset("min", data=gene_min)
    group.create_dataset("max", data=gene_max)


def _write_obs(group: h5py.Group, obs: pd.DataFrame, colors: dict[str, list[str]]) -> None:
    group.attrs["column_names"] = json.dumps([str(c) for c in obs.columns])
    for name in obs.columns:
        series = obs[name]
        column = group.create_group(column_key(str(name)))
        column.attrs["name"] = str(name)
        kind = column_kind(series)
        if kind == "bool" and series.hasnans:
            kind, series = "categorical", series.astype("category")
        if kind == "string" and series.nunique(dropna=True) <= max(1, len(series) // 2):
            kind, series = "categorical", series.astype("category")  # repeated strings: codes are smaller
        if kind == "categorical":
            categories = [str(c) for c in series.cat.categories]
            code_type = np.int8 if len(categories) < 2**7 else np.int16 if len(categories) < 2**15 else np.int32
            column.create_dataset("values", data=series.cat.codes.to_numpy().astype(code_type))
            column.create_dataset("categories", data=np.array(categories, dtype=object), dtype=STRING)
            palette = colors.get(str(name))
            if palette is not None and len(palette) == len(categories):
                column.create_dataset("colors", data=np.array(palette, dtype=object), dtype=STRING)
        elif kind == "bool":
            column.create_dataset("values", data=series.to_numpy(dtype=np.uint8))
        elif kind == "integer" and not series.hasnans and series.min() >= -(2**31) and series.max() < 2**31:
            column.create_dataset("values", data=series.to_numpy(dtype=np.int32))
            kind = "int"
        elif kind in ("integer", "float"):
            column.create_dataset("values", data=series.to_numpy(dtype=np.float32, na_value=np.nan))
            kind = "float"
        else:
            values = np.array(as_strings(series), dtype=object)
            column.create_dataset("values", data=values, dtype=STRING)
        column.attrs["kind"] = kind
