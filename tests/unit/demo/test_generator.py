"""The demo dataset generator: shape, sparsity, counts, markers, clusters, determinism, readability."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pytest
import scipy.sparse as sp

from cellportal.demo.generator import generate_dataset
from cellportal.demo.presets import PRESETS
from cellportal.schema.reference_files import gene_table


@pytest.fixture(scope="module")
def blood(tmp_path_factory: pytest.TempPathFactory) -> ad.AnnData:
    path = generate_dataset(tmp_path_factory.mktemp("blood") / "blood.h5ad", n_cells=3000, seed=7)
    return ad.read_h5ad(path)


def test_shape_and_sparsity(blood: ad.AnnData) -> None:
    assert blood.shape == (3000, 2000)
    assert isinstance(blood.X, sp.csr_matrix) and isinstance(blood.raw.X, sp.csr_matrix)
    density = blood.raw.X.nnz / (blood.n_obs * blood.n_vars)
    assert 0.06 <= density <= 0.09, density


def test_raw_counts_are_float32_integers_and_x_is_their_log_cp10k(blood: ad.AnnData) -> None:
    raw, x = blood.raw.X, blood.X
    assert raw.dtype == np.float32 and x.dtype == np.float32
    assert np.all(raw.data >= 1) and np.array_equal(raw.data, np.round(raw.data))
    assert np.array_equal(raw.indptr, x.indptr) and np.array_equal(raw.indices, x.indices)
    totals = np.asarray(raw.sum(axis=1)).ravel()
    expected = np.log1p(raw.multiply(1e4 / totals[:, None]).tocsr().data)
    np.testing.assert_allclose(x.data, expected, rtol=1e-5)
    np.testing.assert_allclose(blood.obs["n_counts"], totals, rtol=1e-6)


def _distinct_rows(matrix: sp.csr_matrix) -> set[tuple[bytes, bytes]]:
    bounds = zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True)
    return {(matrix.indices[a:b].tobytes(), matrix.data[a:b].tobytes()) for a, b in bounds}


def test_rows_are_non_empty_and_unique(blood: ad.AnnData) -> None:
    raw = blood.raw.X
    assert np.all(np.diff(raw.indptr) > 0)
    assert len(_distinct_rows(raw)) == blood.n_obs


def test_small_panels_still_give_unique_rows(tmp_path: Path) -> None:
    """Few genes and shallow cells make repeats likely; the generator must still avoid them."""
    adata = ad.read_h5ad(generate_dataset(tmp_path / "tiny.h5ad", n_cells=400, n_genes=40, density=0.1, seed=3))
    raw = adata.raw.X
    assert len(_distinct_rows(raw)) == 400 and np.all(np.diff(raw.indptr) > 0)


@pytest.mark.parametrize("preset_name", sorted(PRESETS))
def test_every_marker_is_a_real_gene_of_the_organism(preset_name: str) -> None:
    preset = PRESETS[preset_name]
    names = set(gene_table(preset.organism_ontology_term_id).gene_name)
    assert [symbol for symbol in preset.marker_symbols() if symbol not in names] == []


def test_gene_ids_are_unversioned_ids_of_the_organism(blood: ad.AnnData) -> None:
    table = gene_table("NCBITaxon:9606")
    assert all(gene in table for gene in blood.var_names)
    assert not any("." in gene for gene in blood.var_names)
    assert not blood.var["feature_is_filtered"].any()
    assert list(blood.raw.var_names) == list(blood.var_names)


def test_markers_are_higher_in_their_population(blood: ad.AnnData) -> None:
    table = gene_table("NCBITaxon:9606")
    symbol_of = {gene: table.gene_name[table.row(gene)] for gene in blood.var_names}
    column = {symbol: i for i, symbol in enumerate(symbol_of[g] for g in blood.var_names)}
    labels = blood.obs["author_cell_type"].to_numpy()
    for population in PRESETS["human_blood"].populations:
        inside = labels == population.name
        # Cells of populations that do not list the marker (CD3E is shared by both T cell populations).
        for marker in population.markers:
            sharing = [p.name for p in PRESETS["human_blood"].populations if marker in p.markers]
            outside = ~np.isin(labels, sharing)
            values = blood.X[:, column[marker]].toarray().ravel()
            assert values[inside].mean() > 4 * values[outside].mean() + 0.5, (population.name, marker)


def test_populations_form_separate_clusters_on_the_umap(blood: ad.AnnData) -> None:
    umap = blood.obsm["X_umap"]
    labels = blood.obs["author_cell_type"].to_numpy()
    names = np.unique(labels)
    centroids = np.array([umap[labels == name].mean(axis=0) for name in names])
    nearest = names[np.argmin(((umap[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)]
    assert (nearest == labels).mean() > 0.9
    assert blood.obsm["X_pca"].shape == (3000, 50)


def test_obs_and_uns_carry_the_schema_fields(blood: ad.AnnData) -> None:
    obs = blood.obs
    assert obs.index.is_unique
    assert set(obs["donor_id"].cat.categories) == {"D01", "D02", "D03", "D04", "D05"}
    # Donor-level metadata: one value per donor.
    for column in ("sex_ontology_term_id", "disease_ontology_term_id", "development_stage_ontology_term_id"):
        assert (obs.groupby("donor_id", observed=True)[column].nunique() == 1).all()
    assert "HANCESTRO:0021 || HANCESTRO:0590" in set(obs["self_reported_ethnicity_ontology_term_id"])
    assert obs["is_primary_data"].dtype == bool
    uns = blood.uns
    assert uns["organism_ontology_term_id"] == "NCBITaxon:9606"
    assert uns["default_embedding"] == "X_umap"
    assert list(uns["batch_condition"]) == ["donor_id", "condition"]
    assert len(uns["author_cell_type_colors"]) == len(obs["author_cell_type"].cat.categories)


def test_same_seed_same_content_other_seed_other_content(tmp_path: Path) -> None:
    def content(path: Path) -> tuple[bytes, ...]:
        with h5py.File(path) as handle:
            arrays = [handle[key][:].tobytes() for key in ("raw/X/data", "raw/X/indices", "X/data", "obsm/X_umap")]
            return (*arrays, b"".join(handle["obs/_index"][:]))

    first = content(generate_dataset(tmp_path / "a.h5ad", n_cells=500, seed=11))
    again = content(generate_dataset(tmp_path / "b.h5ad", n_cells=500, seed=11))
    other = content(generate_dataset(tmp_path / "c.h5ad", n_cells=500, seed=12))
    assert first == again
    assert first[0] != other[0]


def test_mouse_brain_preset(tmp_path: Path) -> None:
    adata = ad.read_h5ad(generate_dataset(tmp_path / "brain.h5ad", n_cells=600, n_genes=500, preset="mouse_brain"))
    assert adata.shape == (600, 500)
    assert adata.uns["organism_ontology_term_id"] == "NCBITaxon:10090"
    assert set(adata.obs["self_reported_ethnicity_ontology_term_id"]) == {"na"}
    assert set(adata.obs["suspension_type"]) == {"nucleus"}
    assert all(gene.startswith("ENSMUSG") for gene in adata.var_names)


def test_counts_in_x_without_raw_and_dense_x(tmp_path: Path) -> None:
    counts_only = ad.read_h5ad(generate_dataset(tmp_path / "x.h5ad", n_cells=200, include_raw=False))
    assert counts_only.raw is None
    assert np.array_equal(counts_only.X.data, np.round(counts_only.X.data)) and counts_only.X.data.min() >= 1
    dense = ad.read_h5ad(generate_dataset(tmp_path / "d.h5ad", n_cells=200, n_genes=100, density=0.7, dense_x=True))
    assert isinstance(dense.X, np.ndarray) and (dense.X != 0).mean() > 0.5
    assert isinstance(dense.raw.X, sp.csr_matrix)


def test_generation_is_streamed_in_blocks(tmp_path: Path) -> None:
    """Several blocks are written and stitched: indptr is continuous across block boundaries."""
    path = generate_dataset(tmp_path / "wide.h5ad", n_cells=2500, n_genes=4000, seed=2)  # 2000 rows per block
    with h5py.File(path) as handle:
        indptr = handle["raw/X/indptr"][:]
        assert indptr[0] == 0 and indptr[-1] == handle["raw/X/data"].shape[0]
        assert np.all(np.diff(indptr) > 0)


@pytest.mark.parametrize("preset_name", sorted(PRESETS))
def test_every_preset_passes_our_schema_validator(preset_name: str, tmp_path: Path) -> None:
    """Every term of every preset exists and is allowed (the conformance suite checks the reference agrees)."""
    from cellportal.schema import validate

    path = generate_dataset(tmp_path / f"{preset_name}.h5ad", n_cells=300, n_genes=300, preset=preset_name)
    report = validate(path)
    assert report.valid, [f"{issue.code}: {issue.message}" for issue in report.errors]
