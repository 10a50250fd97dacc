from __future__ import annotations

import io
import json
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pytest

from cellportal.formats import explorer_store
from cellportal.formats._explorer_store_writer import write_explorer_store
from cellportal.formats.conversion import ConversionContext, ConversionError, ConversionStatus
from cellportal.formats.explorer_store import ExplorerStoreReader, StoreFormatError


@pytest.fixture
def store(labelled_h5ad: Path, tmp_path: Path, ctx: ConversionContext) -> Path:
    dest = tmp_path / "v.explorer.h5"
    # 700 non-zeros per block: the 300-cell file goes through the two-pass transpose in many blocks.
    write_explorer_store(labelled_h5ad, dest, ctx, block_nnz=700)
    return dest


def test_convert_writes_a_store(labelled_h5ad: Path, tmp_path: Path, ctx: ConversionContext) -> None:
    result = explorer_store.convert(labelled_h5ad, tmp_path / "s.h5", ctx)
    assert result.status == ConversionStatus.CONVERTED
    with h5py.File(tmp_path / "s.h5") as f:
        assert f.attrs["format"] == "cellportal-explorer-store"
        assert f.attrs["format_version"] == explorer_store.FORMAT_VERSION
    assert not list(tmp_path.glob(".explorer-*")), "scratch files are removed"


def test_expression_in_both_orientations(store: Path, labelled_h5ad: Path) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    dense = source.X.toarray()
    with ExplorerStoreReader(store) as reader:
        assert (reader.n_obs, reader.n_vars, reader.nnz) == (source.n_obs, source.n_vars, source.X.nnz)
        for gene in range(source.n_vars):
            np.testing.assert_array_equal(reader.gene_expression(gene), dense[:, gene])
        np.testing.assert_array_equal(reader.cell_expression(10, 250).toarray(), dense[10:250])
        picked = np.array([299, 3, 4, 5, 120, 3, 0])
        np.testing.assert_array_equal(reader.cells_expression(picked).toarray(), dense[picked])
        with pytest.raises(IndexError):
            reader.gene_expression(source.n_vars)


def test_summary_statistics_cover_all_cells(store: Path, labelled_h5ad: Path) -> None:
    dense = ad.read_h5ad(labelled_h5ad).X.toarray().astype(np.float64)
    with ExplorerStoreReader(store) as reader:
        stats = reader.var_stats()
        np.testing.assert_array_equal(stats.nnz, (dense != 0).sum(axis=0))
        np.testing.assert_allclose(stats.sum, dense.sum(axis=0), rtol=1e-6)
        np.testing.assert_allclose(stats.mean, dense.mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(stats.variance, dense.var(axis=0, ddof=1), rtol=1e-5)
        np.testing.assert_allclose(stats.min, dense.min(axis=0), rtol=1e-6)
        np.testing.assert_allclose(stats.max, dense.max(axis=0), rtol=1e-6)
        # Welch's t-test inputs for a selection and its complement, by subtraction from the totals.
        selection = np.arange(0, 300, 3)
        total, squares, n = reader.selection_sums(selection)
        rest = np.setdiff1d(np.arange(300), selection)
        np.testing.assert_allclose(stats.sum - total, dense[rest].sum(axis=0), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(stats.sum_squares - squares, (dense[rest] ** 2).sum(axis=0), rtol=1e-6, atol=1e-9)
        assert n == len(selection)


def test_obs_columns_are_typed(store: Path, labelled_h5ad: Path) -> None:
    obs = ad.read_h5ad(labelled_h5ad).obs
    with ExplorerStoreReader(store) as reader:
        assert reader.obs_column_names() == list(obs.columns)
        cell_type = reader.obs_column("cell_type")
        assert cell_type.kind == "categorical" and cell_type.values.dtype == np.int8
        assert cell_type.categories == list(obs["cell_type"].cat.categories)
        assert list(cell_type.labels()) == list(obs["cell_type"].astype(str))
        assert cell_type.colors == ["#ff0000", "#00ff00", "#0000ff", "#000000"]
        quality = reader.obs_column("quality")
        assert quality.kind == "float" and quality.values.dtype == np.float32
        np.testing.assert_array_equal(quality.values, obs["quality"].to_numpy(dtype=np.float32))
        genes = reader.obs_column("n_genes_detected")
        assert genes.kind == "int" and genes.values.dtype == np.int32
        primary = reader.obs_column("is_primary_data")
        assert primary.kind == "bool"
        np.testing.assert_array_equal(primary.values.astype(bool), obs["is_primary_data"].to_numpy())
        assert list(reader.obs_column("observation_joinid").values) == list(obs["observation_joinid"])
        assert list(reader.obs_names()) == list(obs.index)
        with pytest.raises(KeyError):
            reader.obs_column("no such column")


def test_embeddings_names_and_metadata(store: Path, labelled_h5ad: Path, ctx: ConversionContext) -> None:
    source = ad.read_h5ad(labelled_h5ad)
    with ExplorerStoreReader(store) as reader:
        assert sorted(reader.embedding_names()) == ["pca", "umap"]
        umap = reader.embedding("umap")
        assert umap.dtype == np.float32
        np.testing.assert_array_equal(umap, source.obsm["X_umap"])
        np.testing.assert_array_equal(reader.embedding("X_pca"), source.obsm["X_pca"])
        assert list(reader.var_names()) == list(source.var["feature_name"].astype(str))
        assert list(reader.var_ids()) == list(source.var_names)
        assert reader.metadata["title"] == "A small test dataset"
        assert reader.metadata["citation"] == ctx.citation("h5ad")


def test_reads_from_a_file_like_object(store: Path, labelled_h5ad: Path) -> None:
    """What an S3 range-request reader hands to h5py: a seekable binary file object."""
    dense = ad.read_h5ad(labelled_h5ad).X.toarray()
    with open(store, "rb") as raw, ExplorerStoreReader(io.BufferedReader(raw)) as reader:
        np.testing.assert_array_equal(reader.gene_expression(7), dense[:, 7])


def test_other_files_are_refused(labelled_h5ad: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreFormatError):
        ExplorerStoreReader(labelled_h5ad)
    newer = tmp_path / "newer.h5"
    with h5py.File(newer, "w") as f:
        f.attrs["format"] = "cellportal-explorer-store"
        f.attrs["format_version"] = "99.0.0"
        f.attrs.update({"n_obs": 0, "n_vars": 0, "nnz": 0, "metadata": json.dumps({})})
    with pytest.raises(StoreFormatError, match=r"99\.0\.0"):
        ExplorerStoreReader(newer)


def test_a_broken_source_fails_readably(tmp_path: Path, ctx: ConversionContext) -> None:
    (tmp_path / "broken.h5ad").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ConversionError, match="could not be opened"):
        explorer_store.convert(tmp_path / "broken.h5ad", tmp_path / "out.h5", ctx)
    assert not (tmp_path / "out.h5").exists()
