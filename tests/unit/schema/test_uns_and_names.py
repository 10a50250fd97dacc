"""uns keys, colours, and the naming rules (deprecated, reserved, '__')."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest

from .conftest import Build, cat, found


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("title", " padded title", "uns.spaces"),
        ("title", "double  space", "uns.spaces"),
        ("default_embedding", "X_tsne", "uns.default_embedding"),
        ("X_approximate_distribution", "poisson", "uns.invalid_value"),
        ("batch_condition", np.array(["no_such_column"]), "uns.batch_condition"),
        ("organism_ontology_term_id", "NCBITaxon:2697049", "ontology_term.not_allowed"),  # SARS-CoV-2
        ("organism_ontology_term_id", "NCBITaxon:9999999999", "ontology_term.invalid"),
        ("organism_ontology_term_id", "NCBITaxon:9913", "ontology_term.not_allowed"),  # cattle: valid, not allowed
    ],
)
def test_uns_values(build: Build, key: str, value: object, code: str) -> None:
    def mutate(adata: ad.AnnData) -> None:
        adata.uns[key] = value

    report = build(mutate)
    location = f"uns.{key}"
    assert (code, location) in found(report), [(i.code, i.location) for i in report.errors]


def test_missing_title_and_organism(build: Build) -> None:
    def drop(adata: ad.AnnData) -> None:
        del adata.uns["title"]
        del adata.uns["organism_ontology_term_id"]

    issues = found(build(drop))
    assert ("uns.missing_key", "uns.title") in issues
    assert ("uns.missing_key", "uns.organism_ontology_term_id") in issues


def test_mouse_strain_is_an_allowed_organism(build: Build) -> None:
    def strain(adata: ad.AnnData) -> None:
        adata.uns["organism_ontology_term_id"] = "NCBITaxon:10092"  # Mus musculus domesticus
        adata.obs["self_reported_ethnicity_ontology_term_id"] = cat(["na"] * adata.n_obs)
        adata.obs["development_stage_ontology_term_id"] = cat(["MmusDv:0000061"] * adata.n_obs)

    report = build(strain)
    assert not any(i.location == "uns.organism_ontology_term_id" for i in report.errors)
    assert ("features.wrong_organism", "var") in found(report)  # still human genes


def test_colors(build: Build) -> None:
    def colors(adata: ad.AnnData) -> None:
        adata.uns["donor_id_colors"] = np.array(["#ff0000"])  # two donors, one colour
        adata.uns["cell_type_colors"] = np.array(["red", "blue"])  # a portal label column

    report = build(colors)
    messages = [i.message for i in report.errors if i.code == "uns.colors"]
    assert any("must have at least 2 color options" in m for m in messages)
    assert any("Annotate cell_type_ontology_term_id_colors instead" in m for m in messages)


def test_good_colors_pass(build: Build) -> None:
    def colors(adata: ad.AnnData) -> None:
        adata.uns["donor_id_colors"] = np.array(["red", "blue"])

    assert build(colors).valid


def test_names(build: Build) -> None:
    def names(adata: ad.AnnData) -> None:
        adata.obs["cell_type"] = cat(["x"] * adata.n_obs)
        adata.obs["observation_joinid"] = cat([str(i) for i in range(adata.n_obs)])
        adata.obs["__hidden"] = cat(["x"] * adata.n_obs)
        adata.obs["ethnicity"] = cat(["x"] * adata.n_obs)
        adata.var["feature_name"] = ["x"] * adata.n_vars
        adata.uns["schema_version"] = "7.1.0"
        adata.uns["tags"] = "x"

    issues = found(build(names))
    assert {
        ("names.reserved", "obs.cell_type"),
        ("names.reserved", "obs.observation_joinid"),
        ("names.double_underscore", "obs.__hidden"),
        ("names.deprecated", "obs.ethnicity"),
        ("names.reserved", "var.feature_name"),
        ("names.reserved", "uns.schema_version"),
        ("names.deprecated", "uns.tags"),
    } <= issues


def test_feature_is_filtered_forbidden_in_raw_var(build: Build) -> None:
    def raw_flag(adata: ad.AnnData) -> None:
        raw_var = adata.raw.var.copy()
        raw_var["feature_is_filtered"] = False
        adata.raw = ad.AnnData(X=adata.raw.X, obs=adata.obs, var=raw_var)

    assert ("names.forbidden_column", "raw.var.feature_is_filtered") in found(build(raw_flag))
