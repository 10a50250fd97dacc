"""obs columns: ontology terms and their dependencies on tissue_type and organism, enumerations, types."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from .conftest import Build, cat, found


def set_column(name: str, value: str | list[str]):
    def mutate(adata: ad.AnnData) -> None:
        values = value if isinstance(value, list) else [value] * adata.n_obs
        adata.obs[name] = cat(values)

    return mutate


def test_valid_dataset_has_no_errors(build: Build) -> None:
    report = build()
    assert report.valid, [i.message for i in report.errors]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("cell_type_ontology_term_id", "CL:0000255", "ontology_term.not_allowed"),  # forbidden term
        ("cell_type_ontology_term_id", "CL:0000003", "ontology_term.deprecated"),  # obsolete
        ("cell_type_ontology_term_id", "UBERON:0002048", "ontology_term.invalid"),  # wrong ontology
        ("cell_type_ontology_term_id", "na", "ontology_term.invalid"),  # 'na' only for cell lines
        ("assay_ontology_term_id", "EFO:0002772", "ontology_term.not_allowed"),  # the ancestor itself
        ("assay_ontology_term_id", "EFO:0009922 (sci-plex)", "ontology_term.invalid"),
        ("disease_ontology_term_id", "MONDO:0100096 || MONDO:0005015", "ontology_term.unsorted"),
        ("disease_ontology_term_id", "MONDO:0005015 || MONDO:0005015", "ontology_term.duplicated"),
        ("disease_ontology_term_id", "MONDO:0005015 || PATO:0000461", "ontology_term.invalid"),  # only MONDO lists
        ("sex_ontology_term_id", "na", "ontology_term.invalid"),  # not a cell line
        ("sex_ontology_term_id", "PATO:0000461", "ontology_term.not_allowed"),
        ("tissue_ontology_term_id", "CL:0000066", "ontology_term.invalid"),  # tissue needs UBERON
        ("self_reported_ethnicity_ontology_term_id", "HANCESTRO:0019 || unknown", "ontology_term.invalid"),
        ("self_reported_ethnicity_ontology_term_id", "na", "ontology_term.invalid"),  # human needs a term
        ("development_stage_ontology_term_id", "MmusDv:0000061", "ontology_term.invalid"),  # human dataset
        ("development_stage_ontology_term_id", "na", "ontology_term.not_allowed"),
    ],
)
def test_ontology_term_rules(build: Build, column: str, value: str, code: str) -> None:
    report = build(set_column(column, value))
    assert not report.valid
    assert (code, f"obs.{column}") in found(report)
    issue = next(i for i in report.errors if i.code == code and i.location == f"obs.{column}")
    assert issue.count == 12 and issue.examples == ["cell_0", "cell_1", "cell_2"]


def test_cell_lines_require_na_and_a_cellosaurus_tissue(build: Build) -> None:
    def cell_line(adata: ad.AnnData) -> None:
        adata.obs["tissue_type"] = cat(["cell line"] * adata.n_obs)
        adata.obs["tissue_ontology_term_id"] = cat(["CVCL_0001"] * adata.n_obs)

    report = build(cell_line)
    issues = found(report)
    for column in (
        "sex_ontology_term_id",
        "self_reported_ethnicity_ontology_term_id",
        "development_stage_ontology_term_id",
    ):
        assert ("ontology_term.must_be_na", f"obs.{column}") in issues
    assert ("column.invalid_values", "obs.donor_id") in issues
    assert not any(i.location == "obs.tissue_ontology_term_id" for i in report.errors)


def test_a_valid_cell_line_dataset(build: Build) -> None:
    def cell_line(adata: ad.AnnData) -> None:
        n = adata.n_obs
        adata.obs["tissue_type"] = cat(["cell line"] * n)
        adata.obs["tissue_ontology_term_id"] = cat(["CVCL_0001"] * n)
        adata.obs["cell_type_ontology_term_id"] = cat(["na"] * n)
        for column in (
            "sex_ontology_term_id",
            "self_reported_ethnicity_ontology_term_id",
            "development_stage_ontology_term_id",
            "donor_id",
        ):
            adata.obs[column] = cat(["na"] * n)
        adata.uns["batch_condition"] = np.array(["donor_id"])

    report = build(cell_line)
    assert report.valid, [i.message for i in report.errors]


def test_cell_line_na_cell_types_must_be_all_or_none(build: Build) -> None:
    def mixed(adata: ad.AnnData) -> None:
        n = adata.n_obs
        adata.obs["tissue_type"] = cat(["cell line"] * n)
        adata.obs["tissue_ontology_term_id"] = cat(["CVCL_0001"] * n)
        adata.obs["cell_type_ontology_term_id"] = cat(["na"] * (n - 1) + ["CL:0000066"])

    assert ("ontology_term.cell_line_na_mixed", "obs.cell_type_ontology_term_id") in found(build(mixed))


def test_primary_cell_culture_tissue_follows_cell_type_rules(build: Build) -> None:
    def culture(adata: ad.AnnData) -> None:
        adata.obs["tissue_type"] = cat(["primary cell culture"] * adata.n_obs)
        adata.obs["tissue_ontology_term_id"] = cat(["CL:0000000"] * adata.n_obs)  # the root itself is not allowed

    issues = found(build(culture))
    assert ("ontology_term.not_allowed", "obs.tissue_ontology_term_id") in issues


def test_zebrafish_terms_are_refused_for_human(build: Build) -> None:
    report = build(set_column("tissue_ontology_term_id", "ZFA:0000009"))
    assert ("ontology_term.organism_prefix", "obs.tissue_ontology_term_id") in found(report)


def test_mouse_dataset_uses_mouse_stages(build: Build) -> None:
    def mouse(adata: ad.AnnData) -> None:
        adata.uns["organism_ontology_term_id"] = "NCBITaxon:10090"
        adata.obs["self_reported_ethnicity_ontology_term_id"] = cat(["na"] * adata.n_obs)

    report = build(mouse)  # HsapDv stage and human genes in a mouse dataset
    issues = found(report)
    assert ("ontology_term.invalid", "obs.development_stage_ontology_term_id") in issues
    assert ("features.wrong_organism", "var") in issues


def test_missing_values_in_a_term_column(build: Build) -> None:
    def with_nan(adata: ad.AnnData) -> None:
        adata.obs["sex_ontology_term_id"] = pd.Categorical(["PATO:0000383"] * (adata.n_obs - 1) + [np.nan])

    report = build(with_nan)
    issue = next(i for i in report.errors if i.location == "obs.sex_ontology_term_id")
    assert issue.code == "column.missing_values"
    assert issue.count == 1 and issue.examples == ["cell_11"]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("donor_id", "na", "column.forbidden_values"),
        ("donor_id", "  ", "column.empty_values"),
        ("suspension_type", "na", "column.invalid_values"),  # 10x assays allow cell or nucleus
        ("tissue_type", "cell culture", "column.invalid_values"),
    ],
)
def test_enumerated_columns(build: Build, column: str, value: str, code: str) -> None:
    assert (code, f"obs.{column}") in found(build(set_column(column, value)))


def test_column_types(build: Build) -> None:
    def wrong_types(adata: ad.AnnData) -> None:
        adata.obs["is_primary_data"] = [1] * adata.n_obs
        adata.obs["donor_id"] = [f"d{i}" for i in range(adata.n_obs)]  # plain strings, not categorical

    issues = found(build(wrong_types))
    assert ("column.not_boolean", "obs.is_primary_data") in issues
    assert ("column.not_categorical", "obs.donor_id") in issues


def test_missing_required_columns_are_each_reported(build: Build) -> None:
    def drop(adata: ad.AnnData) -> None:
        del adata.obs["donor_id"]
        del adata.obs["assay_ontology_term_id"]

    issues = found(build(drop))
    assert ("dataframe.missing_column", "obs.donor_id") in issues
    assert ("dataframe.missing_column", "obs.assay_ontology_term_id") in issues


def test_unused_categories_are_warnings(build: Build) -> None:
    def unused(adata: ad.AnnData) -> None:
        adata.obs["tissue_type"] = pd.Categorical(["tissue"] * adata.n_obs, categories=["tissue", "organoid"])

    report = build(unused)
    assert report.valid
    assert ("dataframe.unused_category", "obs.tissue_type") in found(report)


def test_experimental_conditions(build: Build) -> None:
    assert build(set_column("experimental_condition_ontology_term_id", "CHEBI:16236")).valid
    all_na = build(set_column("experimental_condition_ontology_term_id", "na"))
    assert ("column.all_na", "obs.experimental_condition_ontology_term_id") in found(all_na)
    forbidden = build(set_column("experimental_condition_ontology_term_id", "CHEBI:24431"))
    assert ("ontology_term.not_allowed", "obs.experimental_condition_ontology_term_id") in found(forbidden)


def test_missing_cell_type_is_accepted_as_the_reference_does(build: Build) -> None:
    def drop(adata: ad.AnnData) -> None:
        del adata.obs["cell_type_ontology_term_id"]

    report = build(drop)
    assert report.valid  # cellxgene-schema 7.1.2 accepts it (pre-analysis datasets may omit the column)
    assert ("dataframe.missing_cell_type", "obs.cell_type_ontology_term_id") in found(report)
