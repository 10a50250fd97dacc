"""The mapping from catalog rows to API shapes (rows built in memory, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from cellportal.api.artifacts import DOWNLOADS, split_filename
from cellportal.api.discover.present import (
    bare_doi,
    collection_processing_status,
    dataset_processing_status,
    doi_label,
    iso,
    metadata_fields,
    public_links,
)
from cellportal.catalog.models import DatasetVersion
from cellportal.catalog.statuses import ArtifactType


def version(**values: object) -> DatasetVersion:
    defaults: dict[str, object] = {"id": "v1", "dataset_id": "d1", "validation_errors": []}
    return DatasetVersion(**{**defaults, **values})


def test_timestamps_are_iso_to_the_second_in_utc() -> None:
    assert iso(datetime(2023, 5, 10, 17, 22, 42, 123456, tzinfo=UTC)) == "2023-05-10T17:22:42+00:00"
    assert iso(None) is None


def test_processing_status_mapping() -> None:
    assert dataset_processing_status(version(processing_status="SUCCESS")) == ("SUCCESS", None)
    invalid = version(
        processing_status="FAILURE",
        validation_status="INVALID",
        validation_errors=[{"message": "first"}, {"message": "second"}],
    )
    assert dataset_processing_status(invalid) == ("VALIDATION_FAILURE", "first\nsecond")
    broken = version(processing_status="FAILURE", validation_status="VALID", failure_reason="disk full")
    assert dataset_processing_status(broken) == ("PIPELINE_FAILURE", "disk full")


def test_collection_status() -> None:
    assert collection_processing_status([]) is None
    assert collection_processing_status([version(processing_status="SUCCESS")]) == "SUCCESS"
    mixed = [version(processing_status="FAILURE"), version(processing_status="PENDING")]
    assert collection_processing_status(mixed) == "PENDING"
    assert collection_processing_status([version(processing_status="FAILURE")]) == "FAILURE"


def test_metadata_is_read_tolerantly() -> None:
    fields = metadata_fields(
        version(
            title=None,
            dataset_metadata={
                "title": "From the file",
                "is_primary_data": "BOTH",
                "x_approximate_distribution": "count",
                "organism": [{"label": "Homo sapiens", "ontology_term_id": "NCBITaxon:9606", "extra": 1}, "junk"],
                "donor_id": "D1",
                "raw_data_location": "layers/counts",
                "cell_count": 12.0,
            },
        )
    )
    assert fields["title"] == "From the file"
    assert fields["is_primary_data"] == [True, False]
    assert fields["x_approximate_distribution"] == "COUNT"
    assert fields["organism"] == [{"label": "Homo sapiens", "ontology_term_id": "NCBITaxon:9606"}]
    assert fields["donor_id"] == ["D1"]
    assert fields["raw_data_location"] is None
    assert fields["cell_count"] == 12
    assert fields["tissue"] == [] and fields["batch_condition"] is None


def test_doi_and_links() -> None:
    assert bare_doi("https://doi.org/10.1038/abc") == "10.1038/abc"
    assert bare_doi("doi:10.1/x") == "10.1/x"
    assert bare_doi(None) is None
    links = [
        {"link_type": "DOI", "link_url": "https://doi.org/10.1/x", "link_name": None},
        {"link_type": "PROTOCOL", "link_url": "https://example.org/p", "link_name": "Protocol"},
    ]
    assert public_links(links) == [
        {"link_name": "Protocol", "link_type": "PROTOCOL", "link_url": "https://example.org/p"}
    ]
    crossref = {"authors": [{"family": "Ahern"}, {"family": "B"}], "published_year": 2022, "journal": "Cell"}
    assert doi_label(crossref) == "Ahern et al. (2022) Cell"
    assert doi_label({"authors": []}) is None


def test_download_extensions_cover_every_artifact_type_and_match_the_converters() -> None:
    from cellportal.formats.registry import ARTIFACT_TYPES, CONVERTERS

    assert {d.artifact_type for d in DOWNLOADS} == set(ArtifactType) == set(ARTIFACT_TYPES)
    for download in DOWNLOADS:
        converter = CONVERTERS.get(download.artifact_type)
        if converter is not None:
            assert download.extension == converter.extension
    assert split_filename("abc.raw.h5ad")[0] == "abc"  # type: ignore[index]
    assert split_filename("abc.h5ad")[1].artifact_type == ArtifactType.H5AD  # type: ignore[index]
    assert split_filename("abc.explorer.h5")[1].artifact_type == ArtifactType.EXPLORER  # type: ignore[index]
    assert split_filename(".h5ad") is None and split_filename("abc.csv") is None
