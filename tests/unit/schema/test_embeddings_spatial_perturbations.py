"""obsm embeddings, Visium / bead-based spatial rules and the 7.1 genetic perturbation fields."""

from __future__ import annotations

import anndata as ad
import numpy as np

from .conftest import Build, cat, found


def test_embeddings(build: Build) -> None:
    def embeddings(adata: ad.AnnData) -> None:
        n = adata.n_obs
        adata.obsm["X_spatial"] = np.zeros((n, 2))
        adata.obsm["X_bad suffix"] = np.zeros((n, 2))
        adata.obsm["X_one"] = np.zeros((n, 1))
        adata.obsm["X_inf"] = np.full((n, 2), np.inf)
        adata.obsm["X_nan"] = np.full((n, 2), np.nan)
        adata.obsm["X_bool"] = np.zeros((n, 2), dtype=bool)
        adata.obsm["other"] = np.zeros((n, 3))

    issues = found(build(embeddings))
    assert {
        ("obsm.invalid_key", "obsm.X_spatial"),
        ("obsm.invalid_key", "obsm.X_bad suffix"),
        ("obsm.shape", "obsm.X_one"),
        ("obsm.non_finite", "obsm.X_inf"),
        ("obsm.non_finite", "obsm.X_nan"),
        ("obsm.dtype", "obsm.X_bool"),
        ("obsm.unknown_key", "obsm.other"),
    } <= issues


def test_embeddings_are_required(build: Build) -> None:
    assert ("obsm.missing", "obsm") in found(build(lambda a: a.obsm.clear()))

    def only_other(adata: ad.AnnData) -> None:
        adata.obsm.clear()
        adata.obsm["umap"] = np.zeros((adata.n_obs, 2))

    report = build(only_other)
    assert ("obsm.no_x_embedding", "obsm") in found(report)
    assert ("obsm.unknown_key", "obsm.umap") in found(report)


def visium(adata: ad.AnnData, assay: str = "EFO:0022857") -> None:
    adata.obs["assay_ontology_term_id"] = cat([assay] * adata.n_obs)
    adata.obs["suspension_type"] = cat(["na"] * adata.n_obs)


def test_generic_visium_term_is_refused(build: Build) -> None:
    report = build(lambda a: visium(a, "EFO:0010961"))
    assert ("spatial.assay", "obs.assay_ontology_term_id") in found(report)


def test_visium_needs_uns_spatial(build: Build) -> None:
    issues = found(build(visium))
    assert ("spatial.uns", "uns.spatial") in issues


def test_visium_multi_section_is_valid_without_positions(build: Build) -> None:
    def multi(adata: ad.AnnData) -> None:
        visium(adata)
        adata.uns["spatial"] = {"is_single": False}
        adata.obs["is_primary_data"] = [False] * adata.n_obs

    report = build(multi)
    assert report.valid, [(i.code, i.message) for i in report.errors]


def test_visium_single_section_needs_positions_images_and_spatial_embedding(build: Build) -> None:
    def single(adata: ad.AnnData) -> None:
        visium(adata)
        adata.uns["spatial"] = {
            "is_single": True,
            "lib": {
                "images": {"hires": np.zeros((10, 10, 3), np.uint8)},
                "scalefactors": {"spot_diameter_fullres": 1.0},
            },
        }
        adata.obs["array_row"] = np.arange(adata.n_obs) + 100  # out of range

    issues = found(build(single))
    assert ("spatial.obs", "obs.array_col") in issues  # missing
    assert ("spatial.obs", "obs.array_row") in issues  # out of range
    assert ("spatial.image", "uns.spatial.images.hires") in issues  # not 2000 pixels
    assert ("spatial.uns", "uns.spatial.scalefactors") in issues  # tissue_hires_scalef missing
    assert ("obsm.spatial_embedding", "obsm") in issues
    assert ("raw.visium_row_count", "raw.X") in issues


def test_spatial_metadata_refused_outside_spatial_assays(build: Build) -> None:
    def not_spatial(adata: ad.AnnData) -> None:
        adata.uns["spatial"] = {"is_single": True}
        adata.obsm["spatial"] = np.zeros((adata.n_obs, 2))

    issues = found(build(not_spatial))
    assert ("spatial.uns", "uns.spatial") in issues


def perturbations(adata: ad.AnnData) -> None:
    adata.uns["genetic_perturbations"] = {
        "g1": {
            "role": "targeting",
            "protospacer_sequence": "ACGTACGTACGTACGTAC",
            "protospacer_adjacent_motif": "3' NGG",
            "intended_features": {"ENSG00000141510": "TP53"},
        },
        "ctl": {"role": "control", "protospacer_sequence": "ACGTACGTACGTACGT", "protospacer_adjacent_motif": "3' NGG"},
    }
    n = adata.n_obs
    adata.obs["genetic_perturbation_id"] = cat(["g1"] * (n - 4) + ["ctl", "ctl", "na", "na"])
    adata.obs["genetic_perturbation_strategy"] = cat(
        ["CRISPR knockout screen"] * (n - 4) + ["control", "control", "no perturbations", "no perturbations"]
    )


def test_valid_genetic_perturbations(build: Build) -> None:
    report = build(perturbations)
    assert report.valid, [(i.code, i.message) for i in report.errors]


def test_broken_genetic_perturbations(build: Build) -> None:
    def broken(adata: ad.AnnData) -> None:
        perturbations(adata)
        entry = adata.uns["genetic_perturbations"]["g1"]
        entry["role"] = "ctrl"
        entry["protospacer_sequence"] = "acgt"
        entry["extra"] = "x"
        entry["intended_features"] = {"ENSG00000141510.2": "TP53"}
        ids = list(adata.obs["genetic_perturbation_id"].astype(str))
        ids[0] = "zz"
        adata.obs["genetic_perturbation_id"] = cat(ids)

    report = build(broken)
    codes = {i.code for i in report.errors}
    assert {"uns.invalid_value", "uns.unexpected_keys", "features.unknown_id", "perturbation.inconsistent"} <= codes
    assert any("'zz' in 'genetic_perturbation_id' does not match any key" in i.message for i in report.errors)


def test_perturbation_columns_need_uns(build: Build) -> None:
    def columns_only(adata: ad.AnnData) -> None:
        perturbations(adata)
        del adata.uns["genetic_perturbations"]

    issues = found(build(columns_only))
    assert ("column.forbidden", "obs.genetic_perturbation_id") in issues
    assert ("perturbation.inconsistent", "obs.genetic_perturbation_id") in issues
