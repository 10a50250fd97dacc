"""The codes registry: every code is documented, and reference messages map to the right codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cellportal.schema.codes import ERROR, REGISTRY, WARNING, match_reference_message

SOURCE = Path(__file__).resolve().parents[3] / "src" / "cellportal" / "schema"


def test_registry_entries_are_complete() -> None:
    for code, entry in REGISTRY.items():
        assert re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", code), code
        assert entry.severity in {ERROR, WARNING}
        assert entry.description.strip()
        for pattern in entry.reference_patterns:
            re.compile(pattern)


def test_every_code_used_in_the_rules_is_registered() -> None:
    used = set()
    for path in SOURCE.rglob("*.py"):
        used |= set(re.findall(r'issue\(\s*"([a-z_.0-9]+)"', path.read_text()))
        used |= set(re.findall(r'TermProblem\(\s*"([a-z_.0-9]+)"', path.read_text()))
    assert used, "no issue codes found in the sources"
    assert used <= set(REGISTRY), used - set(REGISTRY)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            "ERROR: 'CL:9999999' in 'cell_type_ontology_term_id' is not a valid ontology term id of "
            "'CL, ZFA, FBbt, WBbt'.",
            "ontology_term.invalid",
        ),
        (
            "ERROR: 'EFO:0002772' in 'assay_ontology_term_id' is not an allowed term id. Only descendant terms",
            "ontology_term.not_allowed",
        ),
        (
            "ERROR: 'MmusDv:0000061' in 'development_stage_ontology_term_id' is a deprecated term id of 'MmusDv'.",
            "ontology_term.deprecated",
        ),
        (
            "ERROR: 'na' in 'sex_ontology_term_id' is not a valid value of 'sex_ontology_term_id'.",
            "ontology_term.must_be_na",
        ),
        ("ERROR: Dataframe 'obs' is missing column 'donor_id'.", "dataframe.missing_column"),
        ("ERROR: ' My  title ' in 'uns['title']' is not valid, it contains trailing spaces.", "uns.spaces"),
        (
            "ERROR: Sparsity of 'X' is 0.9255 which is greater than 0.5, and it is not a 'scipy.sparse.csr_matrix'. "
            "The matrix MUST use this type of matrix for the given sparsity.",
            "matrix.dense_sparse_data",
        ),
        (
            "ERROR: Invalid sparse encoding for raw.X with encoding csc. Only csr sparse encodings are supported.",
            "matrix.unsupported_encoding",
        ),
        ("ERROR: Each cell must have at least one non-zero value in its row in the raw matrix.", "raw.empty_rows"),
        (
            "ERROR: All non-zero values in raw matrix must be positive integers of type numpy.float32.",
            "raw.non_integer",
        ),
        ("ERROR: Found 2 duplicated raw counts in obs adata.raw.X.", "raw.duplicate_rows"),
        ("ERROR: Raw data may be missing: data in 'raw.X' does not meet schema requirements.", "raw.missing"),
        (
            "ERROR: uns['organism_ontology_term_id'] is 'NCBITaxon:9606' but feature_ids are from "
            "[<SupportedOrganisms.MUS_MUSCULUS: 'NCBITaxon:10090'>].",
            "features.wrong_organism",
        ),
        (
            "WARNING: Dataframe 'var' only has 2000 rows. Features SHOULD NOT be filtered from expression matrix.",
            "features.filtered",
        ),
        (
            "ERROR: Add labels error: Column 'cell_type' is a reserved column name of 'obs'. Remove it from h5ad and "
            "try again.",
            "names.reserved",
        ),
        (
            "ERROR: Key 'schema_version' is a reserved key name of 'uns'. Remove it from h5ad and try again.",
            "names.reserved",
        ),
    ],
)
def test_reference_messages_map_to_codes(message: str, code: str) -> None:
    assert code in match_reference_message(message)


def test_unrelated_messages_match_nothing() -> None:
    assert match_reference_message("ERROR: something nobody ever wrote") == []
