"""The Seurat .rds, read back with rds2py's parser (an independent reader of R's format); R itself runs
in test_rds_in_r.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp
from rds2py import parse_rds

from cellportal.formats import rds
from cellportal.formats.conversion import ConversionContext, ConversionError, ConversionStatus
from tests.unit.formats.conftest import labelled_anndata


def slot(obj: dict[str, Any], name: str) -> Any:
    return obj["attributes"][name]


def named_list(obj: dict[str, Any]) -> dict[str, Any]:
    names = slot(obj, "names")["data"]
    return dict(zip(names, obj["data"], strict=True))


def dgc_to_scipy(obj: dict[str, Any]) -> sp.csc_matrix:
    shape = tuple(slot(obj, "Dim")["data"])
    return sp.csc_matrix((slot(obj, "x")["data"], slot(obj, "i")["data"], slot(obj, "p")["data"]), shape=shape)


@pytest.fixture
def converted(labelled_h5ad: Path, tmp_path: Path, ctx: ConversionContext) -> dict[str, Any]:
    dest = tmp_path / "v.rds"
    assert rds.convert(labelled_h5ad, dest, ctx).status == ConversionStatus.CONVERTED
    with open(dest, "rb") as f:
        assert f.read(2) == b"\x1f\x8b"  # gzip, as saveRDS writes
    return parse_rds(str(dest))


def test_seurat_object_holds_counts_data_and_names(converted: dict[str, Any], labelled_h5ad: Path) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    assert converted["class_name"] == "Seurat"
    assays = named_list(slot(converted, "assays"))
    assay = assays["RNA"]
    assert assay["class_name"] == "Assay"
    assert slot(assay, "key")["data"] == ["rna_"]
    counts, data = dgc_to_scipy(slot(assay, "counts")), dgc_to_scipy(slot(assay, "data"))
    # genes × cells in R: the transpose of the h5ad's cells × genes
    assert counts.shape == (source.n_vars, source.n_obs)
    np.testing.assert_array_equal(counts.toarray(), source.raw.X.T.toarray())
    np.testing.assert_allclose(data.toarray(), source.X.T.toarray(), rtol=0, atol=0)
    features, cells = slot(slot(assay, "counts"), "Dimnames")["data"]
    assert cells["data"] == list(source.obs_names)
    assert features["data"][3] == "HLA-A"  # underscore → dash
    assert features["data"][4:6] == ["DUP", "DUP.1"]  # made unique as make.unique does
    meta_features = named_list(slot(assay, "meta.features"))
    assert meta_features["feature_id"]["data"] == list(source.var_names)
    assert slot(slot(assay, "meta.features"), "row.names")["data"] == features["data"]


def test_meta_data_carries_obs_and_seurat_tallies(converted: dict[str, Any], labelled_h5ad: Path) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    meta = named_list(slot(converted, "meta.data"))
    assert slot(slot(converted, "meta.data"), "row.names")["data"] == list(source.obs_names)
    np.testing.assert_array_equal(meta["nCount_RNA"]["data"], np.asarray(source.raw.X.sum(axis=1)).ravel())
    np.testing.assert_array_equal(meta["nFeature_RNA"]["data"], np.diff(source.raw.X.indptr))
    cell_type = meta["cell_type"]
    assert slot(cell_type, "levels")["data"] == list(source.obs["cell_type"].cat.categories)
    np.testing.assert_array_equal(cell_type["data"], source.obs["cell_type"].cat.codes.to_numpy() + 1)
    np.testing.assert_array_equal(meta["is_primary_data"]["data"], source.obs["is_primary_data"].to_numpy())
    np.testing.assert_array_equal(meta["quality"]["data"], source.obs["quality"].to_numpy())
    assert meta["observation_joinid"]["data"] == list(source.obs["observation_joinid"])


def test_every_embedding_is_a_dim_reduc_with_a_valid_key(converted: dict[str, Any], labelled_h5ad: Path) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    reductions = named_list(slot(converted, "reductions"))
    assert set(reductions) == {"umap", "pca"}
    for name, key, obsm_key in (("umap", "UMAP_", "X_umap"), ("pca", "PC_", "X_pca")):
        reduction = reductions[name]
        assert slot(reduction, "key")["data"] == [key]
        embeddings = slot(reduction, "cell.embeddings")
        n, k = slot(embeddings, "dim")["data"]
        values = np.asarray(embeddings["data"]).reshape((k, n)).T  # R is column-major
        np.testing.assert_array_equal(values, source.obsm[obsm_key])
        assert slot(embeddings, "dimnames")["data"][1]["data"] == [f"{key}{j + 1}" for j in range(k)]


def test_misc_carries_uns_and_a_citation_of_the_rds(converted: dict[str, Any], ctx: ConversionContext) -> None:
    misc = named_list(slot(converted, "misc"))
    assert misc["title"]["data"] == ["A small test dataset"]
    assert misc["schema_version"]["data"] == ["7.1.0"]
    assert misc["citation"]["data"] == [ctx.citation("rds")]
    assert ctx.download_url("rds") in misc["citation"]["data"][0]


def test_without_raw_x_the_counts_are_x(tmp_path: Path, ctx: ConversionContext) -> None:
    adata = labelled_anndata(n_cells=40, n_genes=12, with_raw=False)
    adata.write_h5ad(tmp_path / "in.h5ad")
    rds.convert(tmp_path / "in.h5ad", tmp_path / "out.rds", ctx)
    assay = named_list(slot(parse_rds(str(tmp_path / "out.rds")), "assays"))["RNA"]
    np.testing.assert_array_equal(dgc_to_scipy(slot(assay, "counts")).toarray(), adata.X.T.toarray())
    np.testing.assert_array_equal(dgc_to_scipy(slot(assay, "data")).toarray(), adata.X.T.toarray())


def test_dense_x_is_written_sparse(tmp_path: Path, ctx: ConversionContext) -> None:
    adata = labelled_anndata(n_cells=40, n_genes=12)
    adata.X = adata.X.toarray()
    adata.write_h5ad(tmp_path / "in.h5ad")
    rds.convert(tmp_path / "in.h5ad", tmp_path / "out.rds", ctx)
    assay = named_list(slot(parse_rds(str(tmp_path / "out.rds")), "assays"))["RNA"]
    np.testing.assert_array_equal(dgc_to_scipy(slot(assay, "data")).toarray(), adata.X.T)


def test_above_the_non_zero_limit_the_step_is_skipped_with_its_reason(labelled_h5ad: Path, tmp_path: Path) -> None:
    # The real limit is R's 2^31-1; `max_nnz_for_rds` lowers it so this small file exercises the rule.
    nnz = ad.read_h5ad(labelled_h5ad).X.nnz
    base = dict(
        dataset_version_id="v", dataset_id="d", collection_id="c", collection_version_id="cv",
        public_url="http://x", portal_name="P",
    )  # fmt: skip
    over = rds.convert(labelled_h5ad, tmp_path / "over.rds", ConversionContext(**base, max_nnz_for_rds=nnz - 1))
    assert over.status == ConversionStatus.SKIPPED
    assert f"{nnz:,} non-zero values" in over.reason and f"{nnz - 1:,}" in over.reason
    assert not (tmp_path / "over.rds").exists()
    at = rds.convert(labelled_h5ad, tmp_path / "at.rds", ConversionContext(**base, max_nnz_for_rds=nnz))
    assert at.status == ConversionStatus.CONVERTED  # exactly at the limit still fits in an R vector


def test_csc_x_fails_with_a_curator_readable_message(tmp_path: Path, ctx: ConversionContext) -> None:
    adata = labelled_anndata(n_cells=30, n_genes=8)
    adata.X = sp.csc_matrix(adata.X)
    adata.write_h5ad(tmp_path / "in.h5ad")
    with pytest.raises(ConversionError, match=r"X is stored column-major \(CSC\)"):
        rds.convert(tmp_path / "in.h5ad", tmp_path / "out.rds", ctx)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["A_B", "A-B", "A|C"], ["A-B", "A-B.1", "A-C"]),
        (["X", "X", "X.1", "X"], ["X", "X.2", "X.1", "X.3"]),
        ([""], ["unnamed"]),
    ],
)
def test_feature_names_are_cleaned_like_seurat(names: list[str], expected: list[str]) -> None:
    assert rds.seurat_feature_names(names) == expected


def test_reduction_keys_are_valid_and_unique() -> None:
    used = {"rna_"}
    assert rds.reduction_key("umap", used) == "UMAP_"
    assert rds.reduction_key("3d_layout", used) == "DR3dlayout_"
    used.add("UMAP_")
    assert rds.reduction_key("UMAP", used) == "UMAP2_"
