"""What the reader's pages show of a dataset: its table row and its download dialog. Pure mapping of catalog rows.

The download dialog lists each format a reader can take away (h5ad, rds, loom) with its size, sha256 and
the permanent link of *this* version; a format that was skipped or failed says why instead of a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cellportal.api.artifacts import BY_TYPE, is_ready
from cellportal.api.discover.present import Presenter, metadata_fields
from cellportal.catalog import models
from cellportal.catalog.statuses import ArtifactType, ConversionStatus

READER_FORMATS = (ArtifactType.H5AD, ArtifactType.RDS, ArtifactType.LOOM)
FORMAT_NAMES = {
    ArtifactType.H5AD: "AnnData (.h5ad)",
    ArtifactType.RDS: "Seurat (.rds)",
    ArtifactType.LOOM: "Loom (.loom)",
}


@dataclass(frozen=True)
class FormatOffer:
    name: str
    extension: str
    state: str  # "ready" | "skipped" | "failed" | "pending"
    url: str | None = None
    filename: str | None = None
    size: int | None = None
    sha256: str | None = None
    why: str | None = None

    @property
    def curl(self) -> str | None:
        return f"curl -fLO {self.url}" if self.url else None


@dataclass(frozen=True)
class DatasetRow:
    dataset_id: str
    dataset_version_id: str
    title: str
    collection_id: str
    collection_name: str
    organism: list[str]
    tissue: list[str]
    disease: list[str]
    assay: list[str]
    cell_type: list[str]
    cell_count: int | None
    explorer_url: str | None
    formats: list[FormatOffer]
    published: bool


def _labels(values: list[dict[str, Any]]) -> list[str]:
    return [v["label"] or v["ontology_term_id"] for v in values]


def format_offers(present: Presenter, version: models.DatasetVersion) -> list[FormatOffer]:
    offers = []
    for artifact_type in READER_FORMATS:
        download = BY_TYPE[artifact_type]
        name = FORMAT_NAMES[artifact_type]
        artifact = version.artifact(artifact_type)
        if artifact is not None and is_ready(artifact):
            url = present.urls.download(version.id, download.extension)
            offers.append(
                FormatOffer(
                    name,
                    download.extension,
                    "ready",
                    url,
                    f"{version.id}.{download.extension}",
                    artifact.size,
                    artifact.sha256,
                )
            )
        elif artifact is not None and artifact.status == ConversionStatus.SKIPPED:
            why = artifact.status_message or "This format was not made for this dataset."
            offers.append(FormatOffer(name, download.extension, "skipped", why=why))
        elif artifact is not None and artifact.status == ConversionStatus.FAILED:
            why = artifact.status_message or "The conversion failed; the operators can retry it."
            offers.append(FormatOffer(name, download.extension, "failed", why=why))
        else:
            offers.append(FormatOffer(name, download.extension, "pending", why="Not ready yet: still being converted."))
    return offers


def _explorer_url(present: Presenter, version: models.DatasetVersion) -> str | None:
    """The explorer of *this* version (``/e/<dataset_version_id>/``), when its explorer store is ready."""
    explorer = version.artifact(ArtifactType.EXPLORER)
    return present.urls.explorer(version.id) if explorer is not None and is_ready(explorer) else None


def dataset_row(
    present: Presenter, version: models.DatasetVersion, collection_id: str, collection_name: str
) -> DatasetRow:
    fields = metadata_fields(version)
    return DatasetRow(
        dataset_id=version.dataset_id,
        dataset_version_id=version.id,
        title=fields["title"] or "Untitled dataset",
        collection_id=collection_id,
        collection_name=collection_name,
        organism=_labels(fields["organism"]),
        tissue=_labels(fields["tissue"]),
        disease=_labels(fields["disease"]),
        assay=_labels(fields["assay"]),
        cell_type=_labels(fields["cell_type"]),
        cell_count=fields["cell_count"],
        explorer_url=_explorer_url(present, version),
        formats=format_offers(present, version),
        published=version.published_at is not None,
    )
