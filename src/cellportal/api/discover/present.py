"""Catalog rows -> Discover API shapes. Pure mapping: no session, no request (values in, models out).

The rules CELLxGENE Discover follows, kept here:
- timestamps are ISO 8601 to the second, in UTC (``2023-05-10T17:22:42+00:00``);
- ``processing_status``: FAILURE becomes VALIDATION_FAILURE (validator said no, with the messages in
  ``processing_status_detail``) or PIPELINE_FAILURE (a later step broke);
- a collection's status is PENDING if any dataset is still processing, FAILURE if any failed, else
  SUCCESS, and null with no datasets;
- an open revision is exposed with its version id as ``collection_id`` and ``revision_of`` = the canonical id;
- ``doi`` is the bare DOI (``10.1234/abc``); DOI links are not repeated in ``links``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cellportal.api.artifacts import BY_TYPE, is_ready
from cellportal.api.discover import schemas
from cellportal.api.urls import Urls
from cellportal.catalog import models
from cellportal.catalog.statuses import ArtifactType, CollectionLinkType, ProcessingStatus, ValidationStatus

_ONTOLOGY_FIELDS = ("assay", "cell_type", "development_stage", "disease", "organism", "self_reported_ethnicity", "sex")
_DOI_PREFIX = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:)", re.IGNORECASE)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def bare_doi(url: str | None) -> str | None:
    return _DOI_PREFIX.sub("", url).strip() if url else None


# --- statuses --------------------------------------------------------------------------------------------


def dataset_processing_status(version: models.DatasetVersion) -> tuple[str, str | None]:
    """(processing_status, processing_status_detail) as the Curation API spells them."""
    if version.processing_status != ProcessingStatus.FAILURE:
        return version.processing_status, None
    if version.validation_status == ValidationStatus.INVALID:
        messages = [
            str(item.get("message", item)) if isinstance(item, Mapping) else str(item)
            for item in version.validation_errors or []
        ]
        return "VALIDATION_FAILURE", "\n".join(messages) or version.failure_reason
    return "PIPELINE_FAILURE", version.failure_reason


def collection_processing_status(versions: Sequence[models.DatasetVersion]) -> str | None:
    if not versions:
        return None
    statuses = {v.processing_status for v in versions}
    if statuses & {ProcessingStatus.PENDING, ProcessingStatus.INITIALIZED}:
        return "PENDING"
    if ProcessingStatus.FAILURE in statuses:
        return "FAILURE"
    return "SUCCESS"


# --- dataset metadata ------------------------------------------------------------------------------------


def _ontology_list(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else []
    return [
        {"label": str(item.get("label", "")), "ontology_term_id": str(item.get("ontology_term_id", ""))}
        for item in items
        if isinstance(item, Mapping)
    ]


def _tissue_list(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else []
    return [
        {**element, "tissue_type": item.get("tissue_type")}
        for item, element in zip(items, _ontology_list(items), strict=False)
        if isinstance(item, Mapping)
    ]


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _primary_flags(value: Any) -> list[bool]:
    """The spec's [true], [false] or [true, false]; the older PRIMARY/SECONDARY/BOTH spelling is accepted too."""
    if isinstance(value, bool):
        return [value]
    if isinstance(value, list):
        return [bool(v) for v in value]
    return {"PRIMARY": [True], "SECONDARY": [False], "BOTH": [True, False]}.get(str(value).upper(), [])


def _distribution(value: Any) -> str | None:
    return str(value).upper() if str(value).upper() in {"COUNT", "NORMAL"} else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def metadata_fields(version: models.DatasetVersion) -> dict[str, Any]:
    """The metadata every dataset shape shares, read tolerantly from what the labeller extracted."""
    md = version.dataset_metadata or {}
    fields: dict[str, Any] = {name: _ontology_list(md.get(name)) for name in _ONTOLOGY_FIELDS}
    raw_location = md.get("raw_data_location")
    fields.update(
        tissue=_tissue_list(md.get("tissue")),
        batch_condition=_strings(md.get("batch_condition")),
        cell_count=_int(md.get("cell_count")),
        primary_cell_count=_int(md.get("primary_cell_count")),
        mean_genes_per_cell=md.get("mean_genes_per_cell")
        if isinstance(md.get("mean_genes_per_cell"), int | float)
        else None,
        donor_id=_strings(md.get("donor_id")),
        is_primary_data=_primary_flags(md.get("is_primary_data")),
        suspension_type=_strings(md.get("suspension_type")),
        x_approximate_distribution=_distribution(md.get("x_approximate_distribution")),
        spatial=md.get("spatial") if isinstance(md.get("spatial"), Mapping) else None,
        default_embedding=md.get("default_embedding"),
        embeddings=_strings(md.get("embeddings")),
        feature_biotype=_strings(md.get("feature_biotype")),
        feature_count=_int(md.get("feature_count")),
        feature_reference=_strings(md.get("feature_reference")),
        raw_data_location=raw_location if raw_location in ("X", "raw.X") else None,
        title=version.title or md.get("title"),
        schema_version=version.schema_version or md.get("schema_version"),
        citation=version.citation or md.get("citation"),
        dataset_id=version.dataset_id,
        dataset_version_id=version.id,
    )
    return fields


@dataclass(frozen=True)
class Presenter:
    urls: Urls

    # -- datasets -----------------------------------------------------------------------------------------

    def assets(self, version: models.DatasetVersion) -> list[schemas.Asset]:
        assets = []
        for artifact in version.artifacts:
            download = BY_TYPE.get(artifact.type)
            if download is None or download.filetype is None or not is_ready(artifact):
                continue
            assert artifact.sha256 is not None and artifact.size is not None
            assets.append(
                schemas.Asset(
                    filetype=download.filetype,
                    filesize=artifact.size,
                    url=self.urls.download(version.id, download.extension),
                    sha256=artifact.sha256,
                )
            )
        return assets

    def explorer_url(self, version: models.DatasetVersion, dataset: models.Dataset) -> str | None:
        explorer = version.artifact(ArtifactType.EXPLORER)
        if explorer is None or not is_ready(explorer):
            return None
        # The canonical id follows the latest published version; a private or old version needs its own id.
        return self.urls.explorer(dataset.id if dataset.published_version_id == version.id else version.id)

    def _dataset_common(self, version: models.DatasetVersion) -> dict[str, Any]:
        status, detail = dataset_processing_status(version)
        return {
            **metadata_fields(version),
            "assets": self.assets(version),
            "processing_status": status,
            "processing_status_detail": detail,
        }

    def dataset(self, version: models.DatasetVersion) -> schemas.Dataset:
        dataset = version.dataset
        values = {
            **self._dataset_common(version),
            "explorer_url": self.explorer_url(version, dataset),
            "published_at": iso(dataset.published_at),
            "revised_at": iso(dataset.revised_at),
        }
        return schemas.Dataset(**schemas.drop_unknown(schemas.Dataset, values))

    def dataset_version(
        self, version: models.DatasetVersion, *, collection_id: str, first_collection_version_id: str | None
    ) -> schemas.DatasetVersion:
        values = {
            **self._dataset_common(version),
            "collection_id": collection_id,
            "collection_version_id": first_collection_version_id,
            "published_at": iso(version.published_at),
        }
        return schemas.DatasetVersion(**schemas.drop_unknown(schemas.DatasetVersion, values))

    def dataset_index(
        self,
        version: models.DatasetVersion,
        collection: models.Collection,
        collection_version: models.CollectionVersion,
    ) -> schemas.DatasetIndex:
        dataset = version.dataset
        private = version.published_at is None
        revision_of_dataset = dataset.id if private and dataset.published_version_id is not None else None
        values = {
            **self._dataset_common(version),
            "collection_doi": bare_doi(collection_version.doi),
            "collection_doi_label": doi_label(collection_version.publisher_metadata),
            "collection_id": collection.id,
            "collection_name": collection_version.name,
            "collection_version_id": collection_version.id,
            "explorer_url": self.explorer_url(version, dataset),
            "published_at": iso(dataset.published_at),
            "revised_at": iso(dataset.revised_at),
            "revision_of_collection": collection.id if private and collection.published_version_id else None,
            "revision_of_dataset": revision_of_dataset,
            "visibility": "PRIVATE" if private else "PUBLIC",
        }
        return schemas.DatasetIndex(**schemas.drop_unknown(schemas.DatasetIndex, values))

    @staticmethod
    def dataset_preview(version: models.DatasetVersion) -> schemas.DatasetPreview:
        return schemas.DatasetPreview(**schemas.drop_unknown(schemas.DatasetPreview, metadata_fields(version)))

    # -- collections --------------------------------------------------------------------------------------

    def _collection_common(self, version: models.CollectionVersion) -> dict[str, Any]:
        exposed_id = exposed_collection_id(version)
        return {
            "collection_id": exposed_id,
            "collection_url": self.urls.collection(exposed_id),
            "collection_version_id": version.id,
            "consortia": list(version.consortia or []),
            "contact_email": version.contact_email,
            "contact_name": version.contact_name,
            "created_at": iso(version.created_at),
            "curator_name": version.curator_name,
            "description": version.description,
            "doi": bare_doi(version.doi),
            "links": public_links(version.links),
            "name": version.name,
            "publisher_metadata": version.publisher_metadata,
            "visibility": "PUBLIC" if version.published_at is not None else "PRIVATE",
        }

    def _collection_state(self, version: models.CollectionVersion, revising_in: str | None) -> dict[str, Any]:
        collection = version.collection
        is_revision = version.published_at is None and collection.published_version_id is not None
        return {
            "processing_status": collection_processing_status(version.dataset_versions),
            "published_at": iso(collection.originally_published_at),
            "revised_at": iso(collection.revised_at),
            "revising_in": revising_in,
            "revision_of": collection.id if is_revision else None,
        }

    def collection(self, version: models.CollectionVersion, *, revising_in: str | None = None) -> schemas.Collection:
        values = {
            **self._collection_common(version),
            **self._collection_state(version, revising_in),
            "datasets": [self.dataset(dv) for dv in version.dataset_versions],
        }
        return schemas.Collection(**schemas.drop_unknown(schemas.Collection, values))

    def collection_list_item(
        self, version: models.CollectionVersion, *, revising_in: str | None = None
    ) -> schemas.CollectionListItem:
        values = {
            **self._collection_common(version),
            **self._collection_state(version, revising_in),
            "datasets": [self.dataset_preview(dv) for dv in version.dataset_versions],
        }
        return schemas.CollectionListItem(**schemas.drop_unknown(schemas.CollectionListItem, values))

    def collection_version(
        self, version: models.CollectionVersion, *, first_published_in: Mapping[str, str | None]
    ) -> schemas.CollectionVersion:
        collection_id = version.collection_id
        values = {
            **self._collection_common(version),
            "collection_id": collection_id,
            "collection_url": self.urls.collection(collection_id),
            "published_at": iso(version.published_at),
            "dataset_versions": [
                self.dataset_version(
                    dv, collection_id=collection_id, first_collection_version_id=first_published_in.get(dv.id)
                )
                for dv in version.dataset_versions
            ],
        }
        return schemas.CollectionVersion(**schemas.drop_unknown(schemas.CollectionVersion, values))


def exposed_collection_id(version: models.CollectionVersion) -> str:
    """The id a client should use: the canonical id, except for an open revision (its own version id)."""
    collection = version.collection
    if version.published_at is None and collection.published_version_id is not None:
        return version.id
    return collection.id


def public_links(links: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Links as the spec lists them: the DOI has its own field, so it is not repeated here."""
    return [
        {"link_name": link.get("link_name"), "link_type": link["link_type"], "link_url": link["link_url"]}
        for link in links or []
        if link.get("link_type") != CollectionLinkType.DOI and link.get("link_url")
    ]


def doi_label(publisher_metadata: Mapping[str, Any] | None) -> str | None:
    """``"Ahern et al. (2022) Cell"`` from the DOI lookup, as CELLxGENE Discover writes it."""
    if not publisher_metadata:
        return None
    authors = publisher_metadata.get("authors") or []
    first = authors[0] if authors else {}
    name = first.get("family") or first.get("name") if isinstance(first, Mapping) else None
    if not name:
        return None
    label = f"{name} et al." if len(authors) > 1 else str(name)
    year, journal = publisher_metadata.get("published_year"), publisher_metadata.get("journal")
    return " ".join(part for part in (label, f"({year})" if year else None, journal) if part)
