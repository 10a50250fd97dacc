"""Artifact types as the outside world sees them: URL extensions, Curation API file types, media types.

One table, so the download routes, the ``assets`` lists and the permanent URLs cannot disagree. The
extensions match the converter registry (formats/registry.py); a test checks they stay in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from cellportal.catalog.models import Artifact
from cellportal.catalog.statuses import ArtifactType, ConversionStatus


@dataclass(frozen=True)
class Download:
    artifact_type: str
    extension: str  # after "<dataset_version_id>."
    media_type: str
    filetype: str | None  # the Curation API's `asset_filetype`; None: not listed in `assets`


DOWNLOADS: tuple[Download, ...] = (
    Download(ArtifactType.H5AD, "h5ad", "application/x-hdf5", "H5AD"),
    Download(ArtifactType.RDS, "rds", "application/octet-stream", "RDS"),
    # LOOM is our addition to the spec's H5AD|RDS enum (documented in the contract test).
    Download(ArtifactType.LOOM, "loom", "application/x-hdf5", "LOOM"),
    Download(ArtifactType.EXPLORER, "explorer.h5", "application/x-hdf5", None),
    # The upload as received: for its owner only (policy.Action.DOWNLOAD_ORIGINAL).
    Download(ArtifactType.RAW_H5AD, "raw.h5ad", "application/x-hdf5", None),
)
BY_TYPE = {d.artifact_type: d for d in DOWNLOADS}
# Longest first, so "raw.h5ad" wins over "h5ad".
_BY_EXTENSION = sorted(DOWNLOADS, key=lambda d: len(d.extension), reverse=True)
_NOT_READY = {ConversionStatus.FAILED, ConversionStatus.SKIPPED, ConversionStatus.CONVERTING}


def split_filename(filename: str) -> tuple[str, Download] | None:
    """``"<id>.raw.h5ad"`` -> ("<id>", raw_h5ad download); None for an unknown extension."""
    for download in _BY_EXTENSION:
        suffix = "." + download.extension
        if filename.endswith(suffix) and len(filename) > len(suffix):
            return filename[: -len(suffix)], download
    return None


def is_ready(artifact: Artifact) -> bool:
    """Stored and complete: it has a hash and a size, and its conversion did not fail or get skipped."""
    return artifact.sha256 is not None and artifact.size is not None and artifact.status not in _NOT_READY
