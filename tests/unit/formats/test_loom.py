from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import loompy
import numpy as np
import pytest
from anndata.io import read_loom

from cellportal.formats import loom
from cellportal.formats.conversion import ConversionContext, ConversionStatus
from tests.unit.formats.conftest import labelled_anndata

# loompy 3.0.8 checks ClusterID with `len(np.unique(ids)) == np.max(ids)`, which no contiguous 0..k-1
# numbering satisfies (k values, maximum k-1); every other convention must hold.
LOOMPY_CLUSTER_ID_OFF_BY_ONE = "Column attribute 'ClusterID' must be integers 0, 1, 2, ... with no missing values"


@pytest.fixture
def loom_file(labelled_h5ad: Path, tmp_path: Path, ctx: ConversionContext, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Chunks and blocks of 64 cells, so the 300-cell file is written in several blocks as a large one is.
    monkeypatch.setattr(loom, "CHUNK_CELLS", 64)
    monkeypatch.setattr(loom, "DENSE_BLOCK_BYTES", 64 * 60 * 4)
    dest = tmp_path / "v.loom"
    assert loom.convert(labelled_h5ad, dest, ctx).status == ConversionStatus.CONVERTED
    return dest


def test_loom_passes_loompy_validator(loom_file: Path) -> None:
    spec = loompy.LoomValidator()
    assert spec.validate(str(loom_file)), spec.errors
    conventions = loompy.LoomValidator()
    conventions.validate(str(loom_file), strictness="conventions")
    errors = [e for e in conventions.errors if not e.startswith("For help")]
    assert errors in ([], [LOOMPY_CLUSTER_ID_OFF_BY_ONE])


def test_loompy_reads_matrix_counts_and_attributes(loom_file: Path, labelled_h5ad: Path) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    with loompy.connect(str(loom_file), mode="r", validate=True) as ds:
        assert ds.shape == (source.n_vars, source.n_obs)
        np.testing.assert_array_equal(ds[:, :], source.X.T.toarray())
        np.testing.assert_array_equal(ds.layers["counts"][:, :], source.raw.X.T.toarray())
        # loompy 3.0.8 decodes strings as ASCII, dropping other characters (its own files too); the file
        # holds UTF-8 as the spec says (checked with h5py below), so compare what loompy can show.
        ascii_names = [name.encode("ascii", "ignore").decode() for name in source.obs_names]
        assert list(ds.ca.CellID) == ascii_names
        assert list(ds.ra.Accession) == list(source.var_names)
        assert list(ds.ra.Gene) == list(source.var["feature_name"].astype(str))
        assert list(ds.ca.cell_type) == list(source.obs["cell_type"].astype(str))
        np.testing.assert_array_equal(ds.ca.is_primary_data, source.obs["is_primary_data"].to_numpy())
        np.testing.assert_array_equal(ds.ca.quality, source.obs["quality"].to_numpy())
        np.testing.assert_array_equal(ds.ra.feature_length, source.var["feature_length"].to_numpy())
        np.testing.assert_array_equal(ds.ca.X_umap, source.obsm["X_umap"])
        np.testing.assert_array_equal(ds.ca.X_pca, source.obsm["X_pca"])
        names = list(source.obs["cell_type"].astype("category").cat.categories)
        assert [names[i] for i in ds.ca.ClusterID] == list(ds.ca.ClusterName)
        assert ds.attrs["LOOM_SPEC_VERSION"] == "3.0.0"
        assert ds.attrs["Title"] == "A small test dataset"
        assert "/datasets/0b1c2d3e-dataset-version.loom" in ds.attrs["citation"]


def test_anndata_reads_the_loom_back(loom_file: Path, labelled_h5ad: Path) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    back = read_loom(loom_file, sparse=True, obs_names="CellID", var_names="Accession")
    assert list(back.obs_names) == [name.encode("ascii", "ignore").decode() for name in source.obs_names]
    assert list(back.var_names) == list(source.var_names)
    assert list(back.obs["cell_type"]) == list(source.obs["cell_type"].astype(str))
    assert (back.X != source.X).nnz == 0
    assert (back.layers["counts"] != source.raw.X).nnz == 0
    np.testing.assert_array_equal(back.obsm["X_umap"], source.obsm["X_umap"])


def test_strings_are_utf8_as_the_spec_says(loom_file: Path, labelled_h5ad: Path) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    with h5py.File(loom_file) as f:
        assert list(f["col_attrs/CellID"].asstr()[()]) == list(source.obs_names)  # 'célula_ü' intact
        assert f["attrs/LOOM_SPEC_VERSION"].asstr()[()] == "3.0.0"


def test_matrix_is_chunked_and_compressed(loom_file: Path) -> None:
    with h5py.File(loom_file) as f:
        for name in ("matrix", "layers/counts"):
            assert f[name].chunks == (60, 64) and f[name].compression == "gzip"


def test_dense_x_and_no_raw(tmp_path: Path, ctx: ConversionContext) -> None:
    adata = labelled_anndata(n_cells=50, n_genes=10, with_raw=False)
    adata.X = adata.X.toarray()
    adata.write_h5ad(tmp_path / "in.h5ad")
    loom.convert(tmp_path / "in.h5ad", tmp_path / "out.loom", ctx)
    with loompy.connect(str(tmp_path / "out.loom"), mode="r") as ds:
        np.testing.assert_array_equal(ds[:, :], adata.X.T)
        np.testing.assert_array_equal(ds.layers["counts"][:, :], adata.X.T)
