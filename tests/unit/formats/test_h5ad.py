from __future__ import annotations

import shutil
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest

from cellportal.formats import h5ad
from cellportal.formats.conversion import ConversionContext, ConversionError, ConversionStatus
from tests.unit.formats.conftest import labelled_anndata


@pytest.fixture(autouse=True)
def _labels_already_there(monkeypatch: pytest.MonkeyPatch) -> None:
    """These files already carry labels but are not schema-valid, so the labelling step is replaced by a
    plain copy and the citation + compression copy is tested on its own; the real labeller runs in
    test_pipeline_inputs.py on a generated, valid upload."""
    monkeypatch.setattr(h5ad, "label", lambda path, out: shutil.copyfile(path, out))


def test_labelled_h5ad_round_trips_with_citation_and_gzip(
    labelled_h5ad: Path, tmp_path: Path, ctx: ConversionContext
) -> None:
    dest = tmp_path / "out" / "v.h5ad"
    result = h5ad.convert(labelled_h5ad, dest, ctx)
    assert result.status == ConversionStatus.CONVERTED
    before, after = ad.read_h5ad(labelled_h5ad), ad.read_h5ad(dest)
    assert (after.X != before.X).nnz == 0 and after.X.dtype == before.X.dtype
    assert (after.raw.X != before.raw.X).nnz == 0
    pd.testing.assert_frame_equal(after.obs, before.obs)
    pd.testing.assert_frame_equal(after.var, before.var)
    pd.testing.assert_frame_equal(after.raw.var, before.raw.var)
    for key in before.obsm:
        np.testing.assert_array_equal(after.obsm[key], before.obsm[key])
    assert after.uns["citation"] == ctx.citation("h5ad")
    assert "Dataset Version: https://cells.example.org/datasets/0b1c2d3e-dataset-version.h5ad" in after.uns["citation"]
    for key in ("title", "schema_version", "default_embedding"):
        assert after.uns[key] == before.uns[key]
    with h5py.File(dest) as f:
        for name in ("X/data", "X/indices", "raw/X/data", "obsm/X_umap"):
            assert f[name].compression == "gzip", name


def test_an_existing_citation_is_replaced(tmp_path: Path, ctx: ConversionContext) -> None:
    adata = labelled_anndata(n_cells=20, n_genes=10)
    adata.uns["citation"] = "stale"
    source = tmp_path / "in.h5ad"
    adata.write_h5ad(source)
    h5ad.convert(source, tmp_path / "out.h5ad", ctx)
    assert ad.read_h5ad(tmp_path / "out.h5ad").uns["citation"] == ctx.citation("h5ad")


def test_large_arrays_are_copied_in_several_slices(
    labelled_h5ad: Path, tmp_path: Path, ctx: ConversionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(h5ad, "SLICE_BYTES", 64)  # forces many slices on this small file
    monkeypatch.setattr(h5ad, "CHUNK_BYTES", 32)
    h5ad.convert(labelled_h5ad, tmp_path / "out.h5ad", ctx)
    before, after = ad.read_h5ad(labelled_h5ad), ad.read_h5ad(tmp_path / "out.h5ad")
    assert (after.X != before.X).nnz == 0
    np.testing.assert_array_equal(after.obsm["X_pca"], before.obsm["X_pca"])


def test_the_labeller_runs_before_the_copy(
    tmp_path: Path, ctx: ConversionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "original.h5ad"
    labelled_anndata(n_cells=20, n_genes=10).write_h5ad(source)

    def label(path: Path, out: Path) -> None:  # a real labeller's contract: read path, write out
        adata = ad.read_h5ad(path)
        adata.obs["extra_label"] = "added"
        adata.write_h5ad(out)

    monkeypatch.setattr(h5ad, "label", label)
    h5ad.convert(source, tmp_path / "out.h5ad", ctx)
    assert set(ad.read_h5ad(tmp_path / "out.h5ad").obs["extra_label"]) == {"added"}


def test_a_failing_labeller_becomes_a_conversion_error(
    tmp_path: Path, ctx: ConversionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "original.h5ad"
    labelled_anndata(n_cells=20, n_genes=10).write_h5ad(source)

    def label(path: Path, out: Path) -> None:
        raise ValueError("unknown term CL:9999999")

    monkeypatch.setattr(h5ad, "label", label)
    with pytest.raises(ConversionError, match=r"adding ontology labels failed: unknown term CL:9999999"):
        h5ad.convert(source, tmp_path / "out.h5ad", ctx)


def test_not_an_hdf5_file_is_a_readable_error(tmp_path: Path, ctx: ConversionContext) -> None:
    source = tmp_path / "notes.h5ad"
    source.write_text("this is not HDF5")
    with pytest.raises(ConversionError):
        h5ad.convert(source, tmp_path / "out.h5ad", ctx)
