from __future__ import annotations

import pytest

from cellportal.formats.conversion import ConversionContext
from cellportal.formats.registry import ARTIFACT_TYPES, CONVERTERS, conversion_order, get_converter


def test_every_artifact_but_the_upload_has_a_converter() -> None:
    assert set(ARTIFACT_TYPES) == {"raw_h5ad", "h5ad", "explorer", "rds", "loom"}
    assert set(CONVERTERS) == set(ARTIFACT_TYPES) - {"raw_h5ad"}
    for converter in CONVERTERS.values():
        assert converter.extension and converter.format_version and callable(converter.convert)


def test_every_converter_is_run_once() -> None:
    order = [c.artifact_type for c in conversion_order()]
    assert sorted(order) == sorted(CONVERTERS)


def test_unknown_artifact_type_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known"):
        get_converter("csv")


def test_citation_names_doi_permanent_url_and_collection(ctx: ConversionContext) -> None:
    assert ctx.download_url("h5ad") == "https://cells.example.org/datasets/0b1c2d3e-dataset-version.h5ad"
    assert ctx.citation("h5ad") == (
        "Publication: https://doi.org/10.1234/example.5678 "
        "Dataset Version: https://cells.example.org/datasets/0b1c2d3e-dataset-version.h5ad "
        "curated and distributed by Example Cell Portal "
        "in Collection: https://cells.example.org/collections/c0ffee-collection"
    )


def test_citation_without_doi_starts_at_the_dataset_version() -> None:
    ctx = ConversionContext("v1", "d1", "c1", "cv1", "http://localhost:8000", "Lab Portal")
    assert ctx.citation("rds") == (
        "Dataset Version: http://localhost:8000/datasets/v1.rds curated and distributed by Lab Portal "
        "in Collection: http://localhost:8000/collections/c1"
    )
