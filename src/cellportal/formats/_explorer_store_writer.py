"""Writes the explorer store (layout in explorer_store.py and docs/formats.md) in bounded memory.

Pass 1 streams X's CSR rows into `/X/cell_major` and counts non-zeros per gene. Pass 2 reads the rows
again a block at a time, turns each block column-major, and scatters every gene's slice to its final
offset in two flat temporary files (positional writes: no part of the transposed matrix is ever held
whole, and the OS page cache, not this process, buffers it). Pass 3 copies those files into the
compressed `/X/gene_major` datasets in order. Memory is one block plus a few per-gene and per-cell arrays.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from cellportal.formats._source import DEFAULT_BLOCK_NNZ, H5adSource, SparseRows, as_strings, column_kind
from cellportal.formats.conversion import ConversionContext, ConversionError
from cellportal.formats.explorer_store import FORMAT_NAME, FORMAT_VERSION, PAGE_SIZE, column_key

CHUNK_ELEMENTS = 64 * 1024  # 256 KiB per chunk of a 4-byte array: one gene read touches few chunks
GZIP_LEVEL = 1  # fast to decompress and to write; shuffle makes float32 compress well even so
COPY_ELEMENTS = 8 * 1024 * 1024
STRING = h5py.string_dtype("utf-8")


def write_explorer_store(source: Path, dest: Path, ctx: ConversionContext, block_nnz: int = DEFAULT_BLOCK_NNZ) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with (
            H5adSource(source) as h5ad,
            h5py.File(tmp, "w", libver="latest", fs_strategy="page", fs_page_size=PAGE_SIZE) as out,
        ):
            _write(h5ad, out, ctx, block_nnz, scratch_dir=dest.parent)
        os.replace(tmp, dest)
    except OSError as error:
        raise ConversionError(f"writing the explorer store failed: {error}") from error
    finally:
        tmp.unlink(missing_ok=True)


def _write(h5ad: H5adSource, out: h5py.File, ctx: ConversionContext, block_nnz: int, scratch_dir: Path) -> None:
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

    gene_nnz, sums, squares = _write_cell_major(out.create_group("X/cell_major"), x, block_nnz)
    nnz = int(gene_nnz.sum())
    gene_min, gene_max = _write_gene_major(out.create_group("X/gene_major"), x, gene_nnz, block_nnz, scratch_dir)
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


def _array(group: h5py.Group, name: str, dtype: type, length: int) -> h5py.Dataset:
    return group.create_dataset(
        name,
        shape=(length,),
        maxshape=(None,),
        dtype=dtype,
        chunks=(CHUNK_ELEMENTS,),
        compression="gzip",
        compression_opts=GZIP_LEVEL,
        shuffle=True,
    )


def _write_cell_major(group: h5py.Group, x: SparseRows, block_nnz: int) -> tuple[np.ndarray, ...]:
    """Pass 1: the CSR copy (explicit zeros dropped) and per-gene counts, sums and sums of squares."""
    n_obs, n_vars = x.shape
    indptr = group.create_dataset("indptr", shape=(n_obs + 1,), dtype=np.int64)
    indices = _array(group, "indices", np.int32, 0)
    data = _array(group, "data", np.float32, 0)
    gene_nnz = np.zeros(n_vars, dtype=np.int64)
    sums = np.zeros(n_vars, dtype=np.float64)
    squares = np.zeros(n_vars, dtype=np.float64)
    written = 0
    indptr[0:1] = [0]
    for block in x.blocks(block_nnz):
        m = block.matrix
        m.eliminate_zeros()
        n = m.nnz
        indices.resize((written + n,))
        data.resize((written + n,))
        indices[written : written + n] = m.indices.astype(np.int32, copy=False)
        values = m.data.astype(np.float32, copy=False)
        data[written : written + n] = values
        indptr[block.start + 1 : block.stop + 1] = m.indptr[1:].astype(np.int64) + written
        gene_nnz += np.bincount(m.indices, minlength=n_vars)
        as64 = values.astype(np.float64)
        sums += np.bincount(m.indices, weights=as64, minlength=n_vars)
        squares += np.bincount(m.indices, weights=as64 * as64, minlength=n_vars)
        written += n
    return gene_nnz, sums, squares


def _write_gene_major(
    group: h5py.Group, x: SparseRows, gene_nnz: np.ndarray, block_nnz: int, scratch_dir: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Passes 2 and 3: the CSC, scattered per block into flat files, then copied in order."""
    n_vars = x.n_cols
    nnz = int(gene_nnz.sum())
    gene_ptr = np.zeros(n_vars + 1, dtype=np.int64)
    np.cumsum(gene_nnz, out=gene_ptr[1:])
    group.create_dataset("indptr", data=gene_ptr)
    cursor = gene_ptr[:-1].copy()
    gene_min = np.full(n_vars, np.inf, dtype=np.float32)
    gene_max = np.full(n_vars, -np.inf, dtype=np.float32)
    with tempfile.TemporaryDirectory(prefix=".explorer-", dir=scratch_dir) as scratch:
        data_path, index_path = Path(scratch, "data.f32"), Path(scratch, "indices.i32")
        data_fd = os.open(data_path, os.O_RDWR | os.O_CREAT)
        index_fd = os.open(index_path, os.O_RDWR | os.O_CREAT)
        try:
            for block in x.blocks(block_nnz):
                m = block.matrix
                m.eliminate_zeros()
                csc = m.tocsc()  # row (cell) indices come out sorted within each gene
                values = csc.data.astype(np.float32, copy=False)
                cells = (csc.indices.astype(np.int64) + block.start).astype(np.int32)
                counts = np.diff(csc.indptr)
                present = np.flatnonzero(counts)
                if present.size:
                    starts = csc.indptr[present]
                    gene_min[present] = np.minimum(gene_min[present], np.minimum.reduceat(values, starts))
                    gene_max[present] = np.maximum(gene_max[present], np.maximum.reduceat(values, starts))
                for g in present:
                    lo, hi = csc.indptr[g], csc.indptr[g + 1]
                    offset = int(cursor[g]) * 4
                    os.pwrite(data_fd, values[lo:hi].tobytes(), offset)
                    os.pwrite(index_fd, cells[lo:hi].tobytes(), offset)
                    cursor[g] += hi - lo
            if not np.array_equal(cursor, gene_ptr[1:]):
                raise ConversionError("X changed while the explorer store was written (non-zero counts differ)")
            data = _array(group, "data", np.float32, nnz)
            indices = _array(group, "indices", np.int32, nnz)
            for start in range(0, nnz, COPY_ELEMENTS):
                count = min(COPY_ELEMENTS, nnz - start)
                data[start : start + count] = np.fromfile(data_path, np.float32, count, offset=start * 4)
                indices[start : start + count] = np.fromfile(index_path, np.int32, count, offset=start * 4)
        finally:
            os.close(data_fd)
            os.close(index_fd)
    return gene_min, gene_max


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
