"""The Seurat .rds download: a SeuratObject v4 `Seurat` with one v4 `Assay` named RNA, made without R.

Mapping (as CELLxGENE's sceasy-made files, with their known defects fixed):
- `counts` ← the raw counts (raw.X, or X when there is no raw); `data` ← X. Both dgCMatrix genes × cells:
  an h5ad CSR matrix (cells × genes) is exactly that CSC layout, so blocks are written as read, never
  transposed or held whole.
- row names ← `feature_name` (gene symbols) cleaned the way Seurat's constructors do it (`_` and `|` become
  `-`, then made unique as `make.unique` does); `meta.features` ← var with its labels, plus `feature_id`
  (the var index, e.g. the Ensembl id), so the mapping from row name back to the dataset's genes is kept.
- `meta.data` ← `orig.ident`, `nCount_RNA`, `nFeature_RNA` (as `CreateSeuratObject` computes them) and obs.
- one `DimReduc` per embedding in obsm (`X_umap` → `umap` with key `UMAP_`, `X_pca` → `pca`/`PC_`, …).
- `misc` ← uns strings and numbers (title, schema_version, …) and a `citation` naming this .rds's URL.
- the assay key is `rna_` (files without it broke `subset`, CELLxGENE issue #2775).

The object is serialized by our streaming writer (`_rds_writer`): memory is one block of rows plus the
per-cell and per-gene vectors, whatever the number of non-zeros.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from cellportal.formats import _rds_writer as r
from cellportal.formats._source import H5adSource, SparseRows, as_strings, column_kind
from cellportal.formats.conversion import ConversionContext, ConversionError, ConversionResult

FORMAT_VERSION = "seuratobject-4.1.3-assay-v4"
SEURAT_OBJECT_VERSION = (4, 1, 3)  # the SeuratObject release whose layout we write (Debian bookworm's)
GZIP_LEVEL = 1  # saveRDS uses 6: measured six times slower here for a file a third smaller (docs/formats.md)
ASSAY = "RNA"
ASSAY_KEY = "rna_"
KNOWN_REDUCTION_KEYS = {"umap": "UMAP_", "pca": "PC_", "tsne": "tSNE_"}
GLOBAL_REDUCTIONS = {"umap", "tsne"}  # what UpdateSeuratObject marks global


def convert(source: Path, dest: Path, ctx: ConversionContext) -> ConversionResult:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with H5adSource(source) as h5ad:
        x, counts = h5ad.x(), h5ad.counts()
        for name, matrix in (("X", x), ("the raw counts" if h5ad.has_raw else "X", counts)):
            if matrix.nnz > ctx.max_nnz_for_rds:
                return ConversionResult.skipped(
                    f"{name} has {matrix.nnz:,} non-zero values, above the {ctx.max_nnz_for_rds:,} that a "
                    "Seurat object can hold (R vectors stop at 2^31-1 elements); no .rds is made"
                )
        tmp = dest.with_name(f".{dest.name}.partial")
        try:
            SeuratBuilder(h5ad, x, counts, ctx).write(tmp)
            os.replace(tmp, dest)
        except OSError as error:
            raise ConversionError(f"writing the Seurat .rds failed: {error}") from error
        finally:
            tmp.unlink(missing_ok=True)
    return ConversionResult.converted()


class SeuratBuilder:
    def __init__(self, h5ad: H5adSource, x: SparseRows, counts: SparseRows, ctx: ConversionContext) -> None:
        self.h5ad = h5ad
        self.x = x
        self.counts = counts
        self.ctx = ctx
        self.project = ctx.dataset_version_id
        self.cells = [str(c) for c in h5ad.obs().index]
        var = h5ad.var()
        self.var = var
        # Row names are gene symbols, which is what Seurat users type; the Ensembl id stays in
        # meta.features$feature_id and the symbol as labelled in meta.features$feature_name.
        symbols = var["feature_name"] if "feature_name" in var.columns else var.index.to_series()
        self.features = seurat_feature_names([str(v) for v in symbols])
        # Filled while `counts@x` is written, read when `meta.data` is written after it.
        self.n_count = np.zeros(len(self.cells), dtype=np.float64)
        self.n_feature = np.zeros(len(self.cells), dtype=np.int32)

    def write(self, path: Path) -> None:
        r.RdsWriter.write_file(path, self.seurat(), compresslevel=GZIP_LEVEL)

    def seurat(self) -> r.S4:
        cells = r.character(self.cells)
        n = len(self.cells)
        # Slot order matters to us only: `assays` comes first so nCount/nFeature are known for meta.data.
        return r.S4(
            "Seurat",
            "SeuratObject",
            {
                "assays": r.rlist({ASSAY: self.assay()}),
                "meta.data": r.Lazy(self.meta_data),
                "active.assay": r.character([ASSAY]),
                "active.ident": r.factor(np.zeros(n, dtype=np.int32), [self.project], names=cells),
                "graphs": r.rlist(),
                "neighbors": r.rlist(),
                "reductions": r.Lazy(self.reductions),
                "images": r.rlist(),
                "project.name": r.character([self.project]),
                "misc": r.Lazy(self.misc),
                "version": r.Vector(
                    "list",
                    [r.integer(SEURAT_OBJECT_VERSION)],
                    {"class": r.character(["package_version", "numeric_version"])},
                ),
                "commands": r.rlist(),
                "tools": r.rlist(),
            },
        )

    def assay(self) -> r.S4:
        return r.S4(
            "Assay",
            "SeuratObject",
            {
                "counts": self.dgc_matrix(self.counts, tally=True),
                "data": self.dgc_matrix(self.x, tally=False),
                "scale.data": r.empty_matrix(),
                "key": r.character([ASSAY_KEY]),
                "assay.orig": None,
                "var.features": r.logical([]),
                "meta.features": self.meta_features(),
                "misc": r.rlist(),
            },
        )

    def dgc_matrix(self, matrix: SparseRows, tally: bool) -> r.S4:
        """genes × cells dgCMatrix streamed from the cells × genes CSR rows."""
        nnz = matrix.nnz
        indptr = np.concatenate([[0], np.cumsum(matrix.row_nnz())]).astype(np.int32)

        def indices() -> Iterator[np.ndarray]:
            for block in matrix.blocks():
                yield block.matrix.indices

        def values() -> Iterator[np.ndarray]:
            for block in matrix.blocks():
                if tally:
                    self._tally(block.start, block.stop, block.matrix)
                yield block.matrix.data.astype(np.float64)

        return r.S4(
            "dgCMatrix",
            "Matrix",
            {
                "i": r.StreamedVector("integer", nnz, indices),
                "p": r.Vector("integer", indptr),
                "Dim": r.integer([matrix.n_cols, matrix.n_rows]),
                "Dimnames": r.Vector("list", [r.character(self.features), r.character(self.cells)]),
                "x": r.StreamedVector("double", nnz, values),
                "factors": r.rlist(),
            },
        )

    def _tally(self, start: int, stop: int, block: object) -> None:
        import scipy.sparse as sp

        assert isinstance(block, sp.csr_matrix)
        self.n_count[start:stop] = np.asarray(block.sum(axis=1), dtype=np.float64).ravel()
        nonzero = sp.csr_matrix((block.data != 0, block.indices, block.indptr), shape=block.shape)
        self.n_feature[start:stop] = np.asarray(nonzero.sum(axis=1)).ravel()

    def meta_features(self) -> r.Vector:
        columns: dict[str, r.RValue] = {"feature_id": r.character(str(v) for v in self.var.index)}
        for name in self.var.columns:
            if name not in columns:
                columns[name] = r_column(self.var[name])
        return data_frame(columns, self.features)

    def meta_data(self) -> r.Vector:
        obs = self.h5ad.obs()
        n = len(self.cells)
        columns: dict[str, r.RValue] = {
            "orig.ident": r.factor(np.zeros(n, dtype=np.int32), [self.project]),
            "nCount_RNA": r.double(self.n_count),
            f"nFeature_{ASSAY}": r.Vector("integer", self.n_feature),
        }
        for name in obs.columns:
            if name not in columns:
                columns[name] = r_column(obs[name])
        return data_frame(columns, self.cells)

    def reductions(self) -> r.Vector:
        out: dict[str, r.RValue] = {}
        used_keys = {ASSAY_KEY}
        for obsm_key, embedding in self.h5ad.embeddings().items():
            name = reduction_name(obsm_key)
            if name in out:
                continue
            key = reduction_key(name, used_keys)
            used_keys.add(key)
            out[name] = self.dim_reduc(embedding, key, global_=name in GLOBAL_REDUCTIONS)
        return r.rlist(out)

    def dim_reduc(self, embedding: np.ndarray, key: str, global_: bool) -> r.S4:
        n, k = embedding.shape

        def columns() -> Iterator[np.ndarray]:  # R matrices are column-major
            for j in range(k):
                yield embedding[:, j].astype(np.float64)

        embeddings = r.StreamedVector(
            "double",
            n * k,
            columns,
            {
                "dim": r.integer([n, k]),
                "dimnames": r.Vector("list", [r.character(self.cells), r.character(f"{key}{j + 1}" for j in range(k))]),
            },
        )
        jackstraw = r.S4(
            "JackStrawData",
            "SeuratObject",
            {
                "empirical.p.values": r.empty_matrix(),
                "fake.reduction.scores": r.empty_matrix(),
                "empirical.p.values.full": r.empty_matrix(),
                "overall.p.values": r.empty_matrix(),
            },
        )
        return r.S4(
            "DimReduc",
            "SeuratObject",
            {
                "cell.embeddings": embeddings,
                "feature.loadings": r.empty_matrix(),
                "feature.loadings.projected": r.empty_matrix(),
                "assay.used": r.character([ASSAY]),
                "global": r.logical([global_]),
                "stdev": r.double([]),
                "key": r.character([key]),
                "jackstraw": jackstraw,
                "misc": r.rlist(),
            },
        )

    def misc(self) -> r.Vector:
        items: dict[str, r.RValue] = {}
        for key, value in self.h5ad.uns_scalars().items():
            if key.endswith("_colors") or key == "citation":
                continue
            converted = r_scalar(value)
            if converted is not None:
                items[key] = converted
        items["citation"] = r.character([self.ctx.citation("rds")])
        return r.rlist(items)


def seurat_feature_names(names: list[str]) -> list[str]:
    """Row names as Seurat's constructors would leave them: no `_` or `|`, unique (R's make.unique)."""
    cleaned = [re.sub(r"[_|]", "-", name) or "unnamed" for name in names]
    seen: set[str] = set(cleaned)
    counts: dict[str, int] = {}
    taken: set[str] = set()
    out = []
    for name in cleaned:
        if name not in taken:
            taken.add(name)
            out.append(name)
            continue
        k = counts.get(name, 0)
        while True:
            k += 1
            candidate = f"{name}.{k}"
            if candidate not in seen and candidate not in taken:
                break
        counts[name] = k
        taken.add(candidate)
        out.append(candidate)
    return out


def reduction_name(obsm_key: str) -> str:
    return obsm_key.removeprefix("X_") or obsm_key


def reduction_key(name: str, used: set[str]) -> str:
    """A DimReduc key: letters/digits ending in `_`, starting with a letter, unique in the object."""
    base = KNOWN_REDUCTION_KEYS.get(name.lower())
    if base is None:
        letters = re.sub(r"[^A-Za-z0-9]", "", name)
        if not letters or not letters[0].isalpha():
            letters = "DR" + letters
        base = f"{letters}_"
    key, k = base, 1
    while key in used:
        k += 1
        key = f"{base[:-1]}{k}_"
    return key


def data_frame(columns: dict[str, r.RValue], row_names: list[str]) -> r.Vector:
    return r.Vector(
        "list",
        list(columns.values()),
        {
            "names": r.character(columns.keys()),
            "class": r.character(["data.frame"]),
            "row.names": r.character(row_names),
        },
    )


def r_column(series: pd.Series) -> r.Vector:
    kind = column_kind(series)
    if kind == "categorical":
        return r.factor(series.cat.codes.to_numpy(), [str(c) for c in series.cat.categories])
    if kind == "bool":
        absent = series.isna().to_numpy()
        ints = np.where(absent, r.NA_INTEGER, series.fillna(False).to_numpy(dtype=bool).astype(np.int32))
        return r.Vector("logical", ints.astype(np.int32))
    if kind == "integer":
        if series.hasnans or series.min() < -(2**31) + 1 or series.max() > 2**31 - 1:
            return r.double(series.to_numpy(dtype=np.float64, na_value=np.nan))
        return r.Vector("integer", series.to_numpy(dtype=np.int32))
    if kind == "float":
        return r.double(series.to_numpy(dtype=np.float64, na_value=np.nan))
    return r.character(as_strings(series, missing=None))


def r_scalar(value: object) -> r.Vector | None:
    if isinstance(value, bool):
        return r.logical([value])
    if isinstance(value, int | float):
        return r.double([float(value)])
    if isinstance(value, str):
        return r.character([value])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return r.character(value)
    return None
