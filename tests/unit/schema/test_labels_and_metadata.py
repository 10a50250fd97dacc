"""add_labels writes what the reference labeller writes; extract_metadata reads the dataset fields."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pytest

from cellportal.schema import InvalidDatasetError, add_labels, extract_metadata
from cellportal.schema.labeller import observation_joinid

from .conftest import INVALID_FIXTURE, VALID_FIXTURE, valid_adata


def test_labels_of_the_valid_fixture(tmp_path: Path) -> None:
    out = tmp_path / "labelled.h5ad"
    add_labels(VALID_FIXTURE, out)
    labelled = ad.read_h5ad(out)
    obs = labelled.obs
    # Values the reference (cellxgene-schema 7.1.2 validate --add-labels) writes for this fixture.
    assert obs["cell_type"].tolist() == ["epithelial cell", "epithelial cell"]
    assert obs["assay"].tolist() == ["10x 3' v2"] * 2
    assert obs["disease"].tolist() == ["COVID-19"] * 2
    assert obs["sex"].tolist() == ["female"] * 2
    assert obs["tissue"].tolist() == ["lung"] * 2
    assert obs["self_reported_ethnicity"].tolist() == ["Japanese"] * 2
    assert obs["development_stage"].tolist() == ["Carnegie stage 01"] * 2
    assert all(obs[c].dtype.name == "category" for c in ("cell_type", "assay", "tissue"))
    assert obs["tissue_type"].cat.categories.tolist() == ["tissue"]  # unused categories dropped
    assert obs.columns[-1] == "observation_joinid"
    var = labelled.var
    assert var.columns.tolist() == [
        "feature_is_filtered",
        "feature_name",
        "feature_reference",
        "feature_biotype",
        "feature_length",
        "feature_type",
    ]
    assert set(var["feature_reference"]) == {"NCBITaxon:9606"}
    assert set(var["feature_biotype"]) == {"gene"}
    assert labelled.raw.var.columns.tolist()[-5:] == var.columns.tolist()[1:]
    assert labelled.uns["organism"] == "Homo sapiens"
    assert labelled.uns["schema_version"] == "7.1.0"
    assert labelled.uns["schema_reference"].endswith("/schema/7.1.0/schema.md")
    assert labelled.uns["is_pre_analysis"] is False or labelled.uns["is_pre_analysis"] == np.False_
    original = ad.read_h5ad(VALID_FIXTURE)
    assert np.array_equal(labelled.raw.X.toarray(), original.raw.X.toarray())
    assert np.array_equal(labelled.X.toarray(), original.X.toarray())


def test_observation_joinid_matches_the_reference_hash() -> None:
    import pandas as pd

    # xxh3_64("abc") = 8696274497037089104, base85 of its 8 big-endian bytes (checked against cellxgene-schema).
    expected = __import__("base64").b85encode((8696274497037089104).to_bytes(8, "big")).decode()
    assert observation_joinid(pd.Index(["abc"])).tolist() == [expected]


def test_labels_refused_for_invalid_files(tmp_path: Path) -> None:
    out = tmp_path / "labelled.h5ad"
    with pytest.raises(InvalidDatasetError) as raised:
        add_labels(INVALID_FIXTURE, out)
    assert raised.value.report.errors
    assert not out.exists()


def test_multi_term_and_unknown_labels(tmp_path: Path) -> None:
    adata = valid_adata()
    n = adata.n_obs
    adata.obs["disease_ontology_term_id"] = adata.obs["disease_ontology_term_id"].cat.rename_categories(
        ["MONDO:0005015 || MONDO:0100096"]
    )
    adata.obs["sex_ontology_term_id"] = adata.obs["sex_ontology_term_id"].cat.rename_categories(["unknown"])
    source, out = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    adata.write_h5ad(source)
    add_labels(source, out)
    obs = ad.read_h5ad(out).obs
    assert obs["disease"].iloc[0] == "diabetes mellitus || COVID-19"
    assert obs["sex"].iloc[0] == "unknown"
    assert obs["cell_type"].value_counts().to_dict() == {"epithelial cell": n - 2, "B cell": 1, "unknown": 1}


def test_metadata_of_the_valid_fixture() -> None:
    meta = extract_metadata(VALID_FIXTURE).to_dict()
    assert meta["title"] == "A title"
    assert meta["organism"] == [{"label": "Homo sapiens", "ontology_term_id": "NCBITaxon:9606"}]
    assert meta["tissue"] == [{"label": "lung", "ontology_term_id": "UBERON:0002048", "tissue_type": "tissue"}]
    assert meta["cell_type"] == [{"label": "epithelial cell", "ontology_term_id": "CL:0000066"}]
    assert meta["cell_count"] == 2 and meta["primary_cell_count"] == 2
    assert meta["mean_genes_per_cell"] == 7.0
    assert meta["raw_data_location"] == "raw.X"
    assert meta["feature_count"] == 7 and meta["feature_reference"] == ["NCBITaxon:9606"]
    assert meta["embeddings"] == ["X_umap"] and meta["default_embedding"] == "X_umap"
    assert meta["x_approximate_distribution"] == "NORMAL"
    assert meta["schema_version"] == "7.1.0"
    assert meta["donor_id"] == ["donor_1"] and meta["suspension_type"] == ["nucleus"]


def test_metadata_counts(tmp_path: Path) -> None:
    adata = valid_adata()
    adata.obs["is_primary_data"] = [True] * (adata.n_obs - 3) + [False] * 3
    path = tmp_path / "d.h5ad"
    adata.write_h5ad(path)
    meta = extract_metadata(path)
    assert meta.cell_count == adata.n_obs and meta.primary_cell_count == adata.n_obs - 3
    assert meta.is_primary_data == [False, True]
    assert meta.mean_genes_per_cell == pytest.approx(adata.raw.X.nnz / adata.n_obs)
    assert [e["ontology_term_id"] for e in meta.cell_type] == ["CL:0000236", "CL:0000066", "unknown"]
