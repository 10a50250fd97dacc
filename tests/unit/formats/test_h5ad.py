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


def test_an_input_without_labels_is_refused_with_the_reason(tmp_path: Path, ctx: ConversionContext) -> None:
    adata = labelled_anndata(n_cells=20, n_genes=10)
    adata.obs = adata.obs.drop(columns=["cell_type"])
    adata.var = adata.var.drop(columns=["feature_name"])
    source = tmp_path / "upload.h5ad"
    adata.write_h5ad(source)
    with pytest.raises(ConversionError, match="carries no ontology labels"):
        h5ad.convert(source, tmp_path / "out.h5ad", ctx)
    assert not (tmp_path / "out.h5ad").exists()


def test_gzipped_arrays_are_copied_as_stored_and_others_compressed(tmp_path: Path, ctx: ConversionContext) -> None:
    adata = labelled_anndata(n_cells=200, n_genes=40)
    source = tmp_path / "in.h5ad"
    adata.write_h5ad(source)
    with h5py.File(source, "a") as f:  # raw.X gzipped by the curator, X left uncompressed
        data = f["raw/X/data"][()]
        del f["raw/X/data"]
        f["raw/X"].create_dataset("data", data=data, chunks=(64,), compression="gzip", compression_opts=6)
    dest = tmp_path / "out.h5ad"
    h5ad.convert(source, dest, ctx)
    with h5py.File(source) as before, h5py.File(dest) as after:
        src, out = before["raw/X/data"], after["raw/X/data"]
        assert out.chunks == src.chunks and out.compression_opts == 6
        n = src.id.get_num_chunks()
        assert n > 1 and out.id.get_num_chunks() == n
        for i in range(n):  # the compressed bytes themselves, not only the values
            offset = src.id.get_chunk_info(i).chunk_offset
            assert out.id.read_direct_chunk(offset) == src.id.read_direct_chunk(offset)
        assert after["X/data"].compression == "gzip" and after["X/data"].compression_opts == h5ad.GZIP_LEVEL
    assert (ad.read_h5ad(dest).raw.X != adata.raw.X).nnz == 0


def test_a_view_with_linked_matrices_becomes_a_self_contained_file(
    labelled_h5ad: Path, tmp_path: Path, ctx: ConversionContext
) -> None:
    """The pipeline gives this converter the labeller's view, whose matrices are external links."""
    upload = tmp_path / "upload.h5ad"
    shutil.copyfile(labelled_h5ad, upload)
    view = tmp_path / "view.h5ad"
    with h5py.File(upload) as src, h5py.File(view, "w") as out:
        for key, value in src.attrs.items():
            out.attrs[key] = value
        for name in src:
            if name in ("obs", "var", "uns"):
                src.copy(src[name], out, name=name)
            else:
                out[name] = h5py.ExternalLink(str(upload), f"/{name}")
    dest = tmp_path / "out.h5ad"
    h5ad.convert(view, dest, ctx)
    expected = ad.read_h5ad(labelled_h5ad)
    upload.unlink()  # the download must not depend on the upload
    after = ad.read_h5ad(dest)
    with h5py.File(dest) as f:
        assert f.get("X", getlink=True).__class__ is h5py.HardLink
    assert (after.X != expected.X).nnz == 0 and (after.raw.X != expected.raw.X).nnz == 0
    pd.testing.assert_frame_equal(after.obs, expected.obs)
    np.testing.assert_array_equal(after.obsm["X_umap"], expected.obsm["X_umap"])


def test_not_an_hdf5_file_is_a_readable_error(tmp_path: Path, ctx: ConversionContext) -> None:
    source = tmp_path / "notes.h5ad"
    source.write_text("this is not HDF5")
    with pytest.raises(ConversionError):
        h5ad.convert(source, tmp_path / "out.h5ad", ctx)
