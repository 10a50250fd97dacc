"""The reference validator's own fixtures, with what cellxgene-schema 7.1.2 says about them."""

from __future__ import annotations

from cellportal.schema.validator import validate

from .conftest import INVALID_FIXTURE, VALID_FIXTURE, found


def test_valid_fixture_is_valid_with_the_reference_warnings() -> None:
    report = validate(VALID_FIXTURE)
    assert report.valid
    assert report.errors == []
    assert sorted((i.code, i.location, tuple(i.values)) for i in report.warnings) == [
        ("dataframe.unused_category", "obs.tissue_type", ("cell line",)),
        ("dataframe.unused_category", "obs.tissue_type", ("organoid",)),
        ("dataframe.unused_category", "obs.tissue_type", ("primary cell culture",)),
        ("features.filtered", "var", ()),
    ]


def test_invalid_fixture_reports_the_reference_errors() -> None:
    report = validate(INVALID_FIXTURE)
    assert not report.valid
    assert {(i.code, i.location) for i in report.errors} == {
        ("names.deprecated", "uns.X_normalization"),
        ("names.deprecated", "obs.ethnicity_ontology_term_id"),
        ("names.deprecated", "obs.organism_ontology_term_id"),
        ("names.reserved", "var.feature_biotype"),
        ("names.reserved", "raw.var.feature_biotype"),
        ("uns.missing_key", "uns.organism_ontology_term_id"),
        ("features.unknown_id", "var"),
        ("features.unknown_id", "raw.var"),
        ("ontology_term.invalid", "obs.cell_type_ontology_term_id"),
        ("ontology_term.invalid", "obs.assay_ontology_term_id"),
        ("dataframe.missing_column", "obs.self_reported_ethnicity_ontology_term_id"),
        ("dataframe.missing_column", "obs.donor_id"),
        ("dataframe.missing_column", "obs.suspension_type"),
        ("column.invalid_values", "obs.tissue_type"),
    }
    # Two bad cell types are two errors, as in the reference, each with its cells.
    bad_cell_types = [i for i in report.errors if i.location == "obs.cell_type_ontology_term_id"]
    assert sorted(v for i in bad_cell_types for v in i.values) == ["CL:12312", "PATO:0000461"]
    assert all(i.count == 1 and i.examples for i in bad_cell_types)
    assert len(report.errors) == 15
    assert ("features.flagged_nonzero", "var.feature_is_filtered") in found(report)


def test_every_reference_error_of_the_invalid_fixture_matches_one_of_our_codes() -> None:
    from cellportal.schema.codes import match_reference_message

    reference_errors = [
        "The field 'X_normalization' is present in 'uns', but it is deprecated.",
        "The field 'ethnicity_ontology_term_id' is present in 'obs', but it is deprecated.",
        "Add labels error: Column 'feature_biotype' is a reserved column name of 'var'. Remove it from h5ad and "
        "try again.",
        "'organism_ontology_term_id' in 'uns' is not present.",
        "Could not infer organism from feature ID 'ENSG00000285106' in 'var', make sure it is a valid ID.",
        "'PATO:0000461' in 'cell_type_ontology_term_id' is not a valid ontology term id of 'CL, ZFA, FBbt, WBbt'. "
        "cell_type_ontology_term_id must be a valid ontology term of CL or 'unknown'.",
        "Dataframe 'obs' is missing column 'donor_id'.",
        "Column 'tissue_type' in dataframe 'obs' contains invalid values '['cell culture']'. Values must be one of "
        "['primary cell culture', 'organoid', 'tissue', 'cell line']",
    ]
    ours = {i.code for i in validate(INVALID_FIXTURE).errors}
    for message in reference_errors:
        assert set(match_reference_message("ERROR: " + message)) & ours, message
