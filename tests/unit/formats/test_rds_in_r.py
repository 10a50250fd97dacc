"""The .rds in R itself: Debian's SeuratObject/Seurat load it, validate it and run a standard workflow."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cellportal.formats import rds
from cellportal.formats.conversion import ConversionContext
from tests.conftest import require
from tests.unit.formats.conftest import labelled_anndata

pytestmark = pytest.mark.r

R_CHECK = r"""
suppressMessages({library(SeuratObject); library(Seurat)})
args <- commandArgs(trailingOnly = TRUE)
obj <- readRDS(args[1])
stopifnot(isTRUE(validObject(obj, complete = TRUE)))
stopifnot(class(obj[["RNA"]])[1] == "Assay")
counts <- GetAssayData(obj, slot = "counts"); data <- GetAssayData(obj, slot = "data")
umap <- Embeddings(obj, "umap")
facts <- list(
  counts_sum = sum(counts), data_sum = sum(data), nnz = length(counts@x),
  n_features = nrow(obj), n_cells = ncol(obj), first_cell = colnames(obj)[2],
  features = rownames(obj)[1:6], umap_first = unname(umap[1, ]), pca_dims = ncol(Embeddings(obj, "pca")),
  cell_type = as.list(table(obj$cell_type)), key = Key(obj[["RNA"]]),
  citation = obj@misc$citation, n_count = unname(obj$nCount_RNA[1:5])
)
# A standard workflow on the object as downloaded.
obj <- NormalizeData(obj, verbose = FALSE)
obj <- FindVariableFeatures(obj, nfeatures = 20, verbose = FALSE)
obj <- ScaleData(obj, verbose = FALSE)
obj <- RunPCA(obj, npcs = 5, verbose = FALSE, reduction.name = "pca_r", reduction.key = "PCR_")
sub <- subset(obj, subset = cell_type == "B cell")
facts$subset_cells <- ncol(sub)
facts$subset_nnz <- length(GetAssayData(sub, slot = "counts")@x)
facts$variable <- length(VariableFeatures(obj))
saveRDS(facts, args[2])
"""


def r_available_with_seurat() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "suppressMessages({library(SeuratObject); library(Seurat)})"],
        capture_output=True,
        timeout=400,  # the first load after an install reads and caches a lot; minutes on a loaded machine
    )
    return probe.returncode == 0


def test_seurat_loads_validates_and_runs_a_workflow(tmp_path: Path, ctx: ConversionContext) -> None:
    require(r_available_with_seurat(), "Rscript with Debian's SeuratObject and Seurat (scripts/system-deps.sh)")
    adata = labelled_anndata(n_cells=400, n_genes=80, seed=3)
    source = tmp_path / "in.h5ad"
    adata.write_h5ad(source)
    rds.convert(source, tmp_path / "v.rds", ctx)
    script = tmp_path / "check.R"
    script.write_text(R_CHECK)
    run = subprocess.run(
        ["Rscript", str(script), str(tmp_path / "v.rds"), str(tmp_path / "facts.rds")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # Read R's answers back with a reader that is not ours.
    from rds2py import read_rds

    facts = read_rds(str(tmp_path / "facts.rds"))
    facts = json.loads(json.dumps(facts, default=lambda v: np.asarray(v).tolist()))

    def one(name: str) -> object:
        value = facts[name]
        return value[0] if isinstance(value, list) and len(value) == 1 else value

    assert one("counts_sum") == pytest.approx(float(adata.raw.X.sum()))
    assert one("data_sum") == pytest.approx(float(adata.X.astype(np.float64).sum()))
    assert one("nnz") == adata.raw.X.nnz
    assert (one("n_features"), one("n_cells")) == (adata.n_vars, adata.n_obs)
    assert one("first_cell") == "célula_ü"
    assert facts["features"] == ["GENE0", "GENE1", "GENE2", "HLA-A", "DUP", "DUP.1"]
    np.testing.assert_allclose(facts["umap_first"], adata.obsm["X_umap"][0], rtol=1e-6)
    assert one("pca_dims") == 10
    counts_by_type = adata.obs["cell_type"].value_counts()
    assert {k: (v[0] if isinstance(v, list) else v) for k, v in facts["cell_type"].items()} == {
        k: int(v) for k, v in counts_by_type.items()
    }
    assert one("key") == "rna_"
    assert one("citation") == ctx.citation("rds")
    np.testing.assert_array_equal(facts["n_count"], np.asarray(adata.raw.X[:5].sum(axis=1)).ravel())
    b_cells = adata.obs["cell_type"] == "B cell"
    assert one("subset_cells") == int(b_cells.sum())
    assert one("subset_nnz") == adata.raw.X[b_cells.to_numpy()].nnz
    assert one("variable") == 20
