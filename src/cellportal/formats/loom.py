"""The loom download (Loom file format 3.0.0), written by a streaming h5py writer.

loompy 3.0.8 densifies every layer whole before writing (3 GB at 100k cells), so we write the file
ourselves: `/matrix` (genes × cells) from X and `/layers/counts` from the raw counts are chunked datasets
filled one block of cells at a time; a block is a few thousand CSR rows made dense and transposed, so
memory depends on the block, not on the number of cells.

Attributes follow loompy's conventions: row attributes `Gene` (feature_name) and `Accession` (the var
index, e.g. Ensembl id) plus every var column; column attributes `CellID` plus every obs column and each
obsm embedding (n_cells × k), and `ClusterID`/`ClusterName` from `cell_type`; global attributes in
`/attrs` (LOOM_SPEC_VERSION 3.0.0, CreationDate, Title, citation and uns strings).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from cellportal.formats._source import H5adSource, SparseRows, as_strings, column_kind
from cellportal.formats.conversion import ConversionContext, ConversionError, ConversionResult

FORMAT_VERSION = "3.0.0"  # LOOM_SPEC_VERSION written into the file
# Chunks of 64 genes × 512 cells: 64 is loompy's edge and 512 cells its `scan` batch; measured here a third
# faster to write than loompy's 64 × 64 (fewer chunks to index and compress) for the same file size.
CHUNK_GENES, CHUNK_CELLS = 64, 512
GZIP_LEVEL = 2  # loompy's level
DENSE_BLOCK_BYTES = 64 * 1024 * 1024  # size of one dense genes × cells block while writing
STRING = h5py.string_dtype("utf-8")


def convert(source: Path, dest: Path, ctx: ConversionContext) -> ConversionResult:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with H5adSource(source) as h5ad, h5py.File(tmp, "w") as out:
            write_loom(h5ad, out, ctx)
        os.replace(tmp, dest)
    except OSError as error:
        raise ConversionError(f"writing the loom file failed: {error}") from error
    finally:
        tmp.unlink(missing_ok=True)
    return ConversionResult.converted()


def write_loom(h5ad: H5adSource, out: h5py.File, ctx: ConversionContext) -> None:
    n_cells, n_genes = h5ad.n_obs, h5ad.n_vars
    x = h5ad.x()
    _write_matrix(out, "matrix", x)
    out.create_group("layers")
    _write_matrix(out, "layers/counts", h5ad.counts())

    var = h5ad.var()
    row_attrs = out.create_group("row_attrs")
    symbols = var["feature_name"] if "feature_name" in var.columns else var.index.to_series()
    _write_strings(row_attrs, "Gene", [str(v) for v in symbols])
    _write_strings(row_attrs, "Accession", [str(v) for v in var.index])
    for name in var.columns:
        if name not in row_attrs:
            _write_column(row_attrs, _attr_name(name), var[name])

    obs = h5ad.obs()
    col_attrs = out.create_group("col_attrs")
    _write_strings(col_attrs, "CellID", [str(v) for v in obs.index])
    for name in obs.columns:
        if name not in col_attrs:
            _write_column(col_attrs, _attr_name(name), obs[name])
    _write_clusters(col_attrs, obs)
    for key, embedding in h5ad.embeddings().items():
        name = _attr_name(key)
        if name not in col_attrs and embedding.shape[0] == n_cells:
            col_attrs.create_dataset(name, data=embedding, chunks=(min(n_cells, 4096), embedding.shape[1]))

    out.create_group("row_graphs")
    out.create_group("col_graphs")

    globals_ = out.create_group("attrs")
    uns = h5ad.uns_scalars()
    values: dict[str, str] = {
        "LOOM_SPEC_VERSION": FORMAT_VERSION,
        "CreationDate": datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
        "Title": str(uns.get("title", "")),
        "citation": ctx.citation("loom"),
        "dataset_version_id": ctx.dataset_version_id,
        "collection_url": ctx.collection_url,
    }
    if ctx.doi_url:
        values["DOI"] = ctx.doi_url
    for key, value in uns.items():
        if (
            key not in values
            and key not in ("citation", "title")
            and not key.endswith("_colors")
            and isinstance(value, str)
        ):
            values[_attr_name(key)] = value
    for key, value in values.items():
        globals_.create_dataset(key, data=value, dtype=STRING)
    assert x.shape == (n_cells, n_genes)


def _write_matrix(out: h5py.File, name: str, rows: SparseRows) -> None:
    """Write the cells × genes CSR `rows` as a genes × cells chunked dataset, a block of cells at a time."""
    n_cells, n_genes = rows.shape
    dtype = np.float32 if rows.dtype.kind == "f" and rows.dtype.itemsize <= 4 else rows.dtype
    dataset = out.create_dataset(
        name,
        shape=(n_genes, n_cells),
        dtype=dtype,
        chunks=(max(1, min(CHUNK_GENES, n_genes)), max(1, min(CHUNK_CELLS, n_cells))),
        compression="gzip",
        compression_opts=GZIP_LEVEL,
        shuffle=False,
        fillvalue=0,
    )
    # Whole chunks per write (a multiple of the chunk's cells), so no chunk is compressed twice.
    per_cell = max(1, n_genes) * np.dtype(dtype).itemsize
    cells_per_block = max(CHUNK_CELLS, DENSE_BLOCK_BYTES // per_cell // CHUNK_CELLS * CHUNK_CELLS)
    for start in range(0, n_cells, cells_per_block):
        stop = min(n_cells, start + cells_per_block)
        block = rows.rows(start, stop)
        # Transpose while sparse (cost ∝ non-zeros), so the dense block comes out genes × cells in C order
        # and h5py need not make a strided copy of it.
        dataset[:, start:stop] = block.T.tocsr().toarray().astype(dtype, copy=False)


def _write_clusters(col_attrs: h5py.Group, obs: pd.DataFrame) -> None:
    """Loom's ClusterID/ClusterName conventions, from the cell type (the dataset's main annotation)."""
    if "ClusterID" in col_attrs or "ClusterName" in col_attrs:
        return
    if "cell_type" in obs.columns:
        cell_type = obs["cell_type"].astype("category")
        col_attrs.create_dataset("ClusterID", data=cell_type.cat.codes.to_numpy(dtype=np.int64))
        _write_strings(col_attrs, "ClusterName", as_strings(cell_type))
    else:
        col_attrs.create_dataset("ClusterID", data=np.zeros(len(obs), dtype=np.int64))


def _write_strings(group: h5py.Group, name: str, values: list[str]) -> None:
    group.create_dataset(name, data=np.array(values, dtype=object), dtype=STRING)


def _write_column(group: h5py.Group, name: str, series: pd.Series) -> None:
    """One obs/var column as a loom attribute: numbers stay numbers, bools become uint8, the rest strings."""
    kind = column_kind(series)
    if kind == "bool" and not series.hasnans:
        group.create_dataset(name, data=series.to_numpy(dtype=np.uint8))
    elif kind == "integer" and not series.hasnans:
        group.create_dataset(name, data=series.to_numpy(dtype=np.int64))
    elif kind in ("float", "integer"):
        group.create_dataset(name, data=series.to_numpy(dtype=np.float64, na_value=np.nan))
    else:
        # Categoricals become their labels: loom has no categorical type (missing values become "").
        _write_strings(group, name, as_strings(series))


def _attr_name(name: str) -> str:
    """HDF5 names cannot contain '/'; CELLxGENE's loom step made the same replacement."""
    return str(name).replace("/", "-")
