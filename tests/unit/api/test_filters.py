"""Facet filters and the schema_version filter (pure)."""

from __future__ import annotations

import pytest

from cellportal.api.discover.filters import FacetFilter, schema_version_matches

METADATA = {
    "organism": [{"label": "Homo sapiens", "ontology_term_id": "NCBITaxon:9606"}],
    "tissue": [
        {"label": "lung", "ontology_term_id": "UBERON:0002048", "tissue_type": "tissue"},
        {"label": "blood", "ontology_term_id": "UBERON:0000178", "tissue_type": "tissue"},
    ],
    "suspension_type": ["cell", "nucleus"],
}


def test_empty_filter_matches_everything() -> None:
    assert FacetFilter.of().is_empty
    assert FacetFilter.of(organism=[], tissue=None, sex=["  "]).is_empty
    assert FacetFilter().matches(None)


@pytest.mark.parametrize(
    ("values", "matches"),
    [
        ({"organism": ["NCBITaxon:9606"]}, True),
        ({"organism": ["homo SAPIENS"]}, True),
        ({"organism": ["NCBITaxon:10090"]}, False),
        ({"organism": ["NCBITaxon:10090", "NCBITaxon:9606"]}, True),
        ({"tissue": ["blood"], "organism": ["Homo sapiens"]}, True),
        ({"tissue": ["blood"], "organism": ["Mus musculus"]}, False),
        ({"suspension_type": ["nucleus"]}, True),
        ({"suspension_type": ["na"]}, False),
        ({"disease": ["normal"]}, False),  # a facet the dataset does not have never matches
    ],
)
def test_facets(values: dict[str, list[str]], matches: bool) -> None:
    assert FacetFilter.of(**values).matches(METADATA) is matches


@pytest.mark.parametrize(
    ("wanted", "actual", "matches"),
    [
        (None, "5.3.0", True),
        ("5", "5.3.0", True),
        ("5.3", "5.3.0", True),
        ("5.3.0", "5.3.0", True),
        ("5.2", "5.3.0", False),
        ("5", "50.0.0", False),
        ("5", None, False),
    ],
)
def test_schema_version_prefix(wanted: str | None, actual: str | None, matches: bool) -> None:
    assert schema_version_matches(wanted, actual) is matches
