"""Builders for the format tests: small labelled datasets shaped like the labeller's output."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cellportal.formats.conversion import ConversionContext

CELL_TYPES = ["T cell", "B cell", "monocyte", "natural killer cell"]


def labelled_anndata(n_cells: int = 300, n_genes: int = 60, seed: int = 0, with_raw: bool = True) -> ad.AnnData:
    """A dataset with what the labeller leaves: ontology ids and labels, feature names, raw counts, embeddings."""
    rng = np.random.default_rng(seed)
    counts = sp.random(n_cells, n_genes, density=0.15, format="csr", random_state=rng, dtype=np.float32)
    counts.data = np.ceil(counts.data * 20).astype(np.float32)
    keep = np.ones(n_cells, dtype=np.float32)
    keep[0] = 0  # an empty cell, which every format must keep
    counts = sp.csr_matrix(sp.diags(keep) @ counts)
    counts.eliminate_zeros()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    scale = np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
    x = sp.csr_matrix(counts.multiply(scale[:, None]))
    x.data = np.log1p(x.data).astype(np.float32)
    cells = [f"cell_{i}-{'AC'[i % 2]}GT" for i in range(n_cells)]
    cells[1] = "célula_ü"  # non-ASCII cell name
    codes = rng.integers(0, len(CELL_TYPES), n_cells)
    obs = pd.DataFrame(
        {
            "cell_type_ontology_term_id": pd.Categorical.from_codes(
                codes, [f"CL:000{i}" for i in range(len(CELL_TYPES))]
            ),
            "cell_type": pd.Categorical.from_codes(codes, CELL_TYPES),
            "donor_id": pd.Categorical(rng.choice(["d1", "d2", "d3"], n_cells)),
            "is_primary_data": rng.random(n_cells) > 0.3,
            "n_genes_detected": rng.integers(0, 5000, n_cells).astype(np.int64),
            "quality": rng.normal(size=n_cells),
            "observation_joinid": [f"j{i:06d}" for i in range(n_cells)],
        },
        index=pd.Index(cells),
    )
    obs.loc[obs.index[2], "quality"] = np.nan
    gene_ids = [f"ENSG{i:011d}" for i in range(n_genes)]
    names = [f"GENE{i}" for i in range(n_genes)]
    names[3] = "HLA_A"  # underscores: Seurat replaces them with dashes
    names[4] = names[5] = "DUP"  # duplicated symbols
    var = pd.DataFrame(
        {
            "feature_is_filtered": np.zeros(n_genes, dtype=bool),
            "feature_name": pd.Categorical(names),
            "feature_reference": pd.Categorical(["NCBITaxon:9606"] * n_genes),
            "feature_biotype": pd.Categorical(["gene"] * n_genes),
            "feature_length": rng.integers(100, 10000, n_genes),
            "feature_type": pd.Categorical(["protein_coding"] * n_genes),
        },
        index=pd.Index(gene_ids),
    )
    adata = ad.AnnData(X=x if with_raw else counts, obs=obs, var=var)
    if with_raw:
        adata.raw = ad.AnnData(X=counts, obs=obs[[]], var=var)
    adata.obsm["X_umap"] = rng.normal(size=(n_cells, 2)).astype(np.float32)
    adata.obsm["X_pca"] = rng.normal(size=(n_cells, 10)).astype(np.float32)
    adata.uns["title"] = "A small test dataset"
    adata.uns["schema_version"] = "7.1.0"
    adata.uns["schema_reference"] = (
        "https://github.com/chanzuckerberg/single-cell-curation/blob/main/schema/7.1.0/schema.md"
    )
    adata.uns["organism"] = "Homo sapiens"
    adata.uns["default_embedding"] = "X_umap"
    adata.uns["X_approximate_distribution"] = "normal"
    adata.uns["batch_condition"] = np.array(["donor_id"])
    adata.uns["cell_type_colors"] = np.array(["#ff0000", "#00ff00", "#0000ff", "#000000"])
    return adata


@pytest.fixture
def labelled_h5ad(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.h5ad"
    labelled_anndata().write_h5ad(path)
    return path


@pytest.fixture
def ctx() -> ConversionContext:
    return ConversionContext(
        dataset_version_id="0b1c2d3e-dataset-version",
        dataset_id="d4e5f6-dataset",
        collection_id="c0ffee-collection",
        collection_version_id="c0ffee-collection-v2",
        public_url="https://cells.example.org/",
        portal_name="Example Cell Portal",
        doi="10.1234/example.5678",
    )
