"""Response shapes of the Discover API, field for field those of ``curation-api.yml`` (components.schemas).

Only additions: ``sha256`` on each asset, and ``LOOM`` as an asset file type. Field order follows the spec.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Visibility = Literal["PUBLIC", "PRIVATE"]
CollectionProcessingStatus = Literal["FAILURE", "PENDING", "SUCCESS"]
DatasetProcessingStatus = Literal["PENDING", "SUCCESS", "VALIDATION_FAILURE", "PIPELINE_FAILURE", "INITIALIZED"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OntologyElement(_Out):
    label: str
    ontology_term_id: str


class TissueElement(OntologyElement):
    tissue_type: str | None = None


class Asset(_Out):
    filetype: str
    filesize: int
    url: str
    sha256: str


class Link(_Out):
    link_name: str | None = None
    link_type: str
    link_url: str


class Author(BaseModel):
    model_config = ConfigDict(extra="allow")
    family: str | None = None
    given: str | None = None
    name: str | None = None


class PublisherMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")
    authors: list[Author] = []
    is_preprint: bool | None = None
    journal: str | None = None
    published_day: int | None = None
    published_month: int | None = None
    published_year: int | None = None


class Spatial(_Out):
    is_single: bool | None = None
    has_fullres: bool | None = None


class _DatasetMetadata(_Out):
    """The fields every dataset shape shares (from DatasetVersion.dataset_metadata)."""

    assay: list[OntologyElement] = []
    assets: list[Asset] = []
    batch_condition: list[str] | None = None
    cell_count: int | None = None
    primary_cell_count: int | None = None
    cell_type: list[OntologyElement] = []
    citation: str | None = None
    dataset_id: str
    dataset_version_id: str
    development_stage: list[OntologyElement] | None = []
    disease: list[OntologyElement] = []
    donor_id: list[str] | None = None
    is_primary_data: list[bool] = []
    mean_genes_per_cell: float | None = None
    title: str | None = None
    organism: list[OntologyElement] | None = []
    schema_version: str | None = None
    self_reported_ethnicity: list[OntologyElement] = []
    sex: list[OntologyElement] = []
    spatial: Spatial | None = None
    suspension_type: list[str] | None = None
    tissue: list[TissueElement] = []
    x_approximate_distribution: Literal["COUNT", "NORMAL"] | None = None


class _DatasetFileMetadata(_Out):
    default_embedding: str | None = None
    embeddings: list[str] | None = None
    feature_biotype: list[str] | None = None
    feature_count: int | None = None
    feature_reference: list[str] | None = None
    raw_data_location: Literal["X", "raw.X"] | None = None


class Dataset(_DatasetMetadata, _DatasetFileMetadata):
    """`dataset`: a dataset as part of a collection."""

    explorer_url: str | None = None
    processing_status: DatasetProcessingStatus | None = None
    processing_status_detail: str | None = None
    published_at: str | None = None
    revised_at: str | None = None


class DatasetIndex(_DatasetMetadata):
    """`dataset_index`: one entry of GET /v1/datasets."""

    collection_doi: str | None = None
    collection_doi_label: str | None = None
    collection_id: str
    collection_name: str | None = None
    collection_version_id: str
    explorer_url: str | None = None
    processing_status: DatasetProcessingStatus | None = None
    processing_status_detail: str | None = None
    published_at: str | None = None
    revised_at: str | None = None
    revision_of_collection: str | None = None
    revision_of_dataset: str | None = None
    visibility: Visibility = "PUBLIC"


class DatasetVersion(_DatasetMetadata, _DatasetFileMetadata):
    """`dataset_version`: one immutable version of a dataset."""

    collection_id: str
    collection_version_id: str | None  # the collection version it was first published in
    published_at: str | None = None  # always set for published versions; None for a private one


class DatasetPreview(_Out):
    assay: list[OntologyElement] = []
    disease: list[OntologyElement] = []
    dataset_id: str
    organism: list[OntologyElement] | None = []
    tissue: list[TissueElement] = []
    suspension_type: list[str] | None = None


class _CollectionMetadata(_Out):
    collection_id: str
    collection_url: str
    collection_version_id: str
    consortia: list[str] = []
    contact_email: str
    contact_name: str
    created_at: str
    curator_name: str | None = None
    description: str
    doi: str | None = None
    links: list[Link] = []
    name: str | None = None
    publisher_metadata: PublisherMetadata | None = None
    visibility: Visibility


class _CollectionState(_Out):
    processing_status: CollectionProcessingStatus | None = None
    published_at: str | None = None
    revised_at: str | None = None
    revising_in: str | None = None
    revision_of: str | None = None


class CollectionListItem(_CollectionMetadata, _CollectionState):
    """`collection_list`: one entry of GET /v1/collections, with dataset previews."""

    datasets: list[DatasetPreview] = []


class Collection(_CollectionMetadata, _CollectionState):
    """`collection`: GET /v1/collections/{collection_id}, with full dataset metadata."""

    datasets: list[Dataset] = []


class CollectionVersion(_CollectionMetadata):
    """`collection_version`: one published version of a collection and its dataset versions."""

    dataset_versions: list[DatasetVersion] = []
    published_at: str | None = None


def drop_unknown(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """Keep only the keys a shape declares (dataset_metadata may hold more than the API shows)."""
    return {key: value for key, value in values.items() if key in model.model_fields}
