"""What the curator pages say about processing: one dataset row, one collection line. Pure.

A dataset goes upload -> validation -> conversions (one artifact each). The row shows each stage with its
own status, so "the loom failed but everything else is there" reads differently from "the file is invalid".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cellportal.catalog.statuses import ArtifactType, ConversionStatus, ProcessingStatus, UploadStatus, api_status

# The conversions a reader will use, in the order the pipeline makes them.
CONVERSIONS: tuple[tuple[str, str], ...] = (
    (ArtifactType.H5AD.value, "Labelled h5ad"),
    (ArtifactType.EXPLORER.value, "Explorer"),
    (ArtifactType.RDS.value, "Seurat .rds"),
    (ArtifactType.LOOM.value, "loom"),
)


@dataclass(frozen=True)
class Stage:
    label: str
    status: str  # the catalog's word: UPLOADED, VALID, CONVERTED, FAILED, ...
    tone: str  # "ok" | "busy" | "bad" | "idle": the colour of the badge
    detail: str | None = None


@dataclass(frozen=True)
class DatasetRow:
    dataset_id: str
    dataset_version_id: str
    title: str
    filename: str | None
    status: str  # the Curation API's processing_status (SUCCESS, VALIDATION_FAILURE, ...)
    tone: str
    stages: tuple[Stage, ...]
    cell_count: int | None
    error_count: int
    warning_count: int
    published: bool  # this very version is already published (unchanged by an open revision)
    replaceable: bool
    job_step: str | None = None
    job_progress: float | None = None
    failure_reason: str | None = None


def _tone(status: str) -> str:
    if status in {"SUCCESS", "UPLOADED", "VALID", "CONVERTED"}:
        return "ok"
    if status in {"FAILURE", "FAILED", "INVALID", "VALIDATION_FAILURE", "PIPELINE_FAILURE"}:
        return "bad"
    if status in {"PENDING", "UPLOADING", "VALIDATING", "CONVERTING"}:
        return "busy"
    return "idle"


def dataset_row(version: Any, job: Any | None = None) -> DatasetRow:
    """A ``DatasetVersion`` (and its latest job row, if any) as the workspace shows it."""
    status = api_status(version.processing_status, version.validation_status)
    artifacts = {artifact.type: artifact for artifact in version.artifacts}
    stages = [
        Stage("Upload", version.upload_status, _tone(version.upload_status)),
        Stage("Validation", version.validation_status, _tone(version.validation_status)),
    ]
    for artifact_type, label in CONVERSIONS:
        artifact = artifacts.get(artifact_type)
        artifact_status = artifact.status if artifact is not None else ConversionStatus.NA.value
        detail = artifact.status_message if artifact is not None else None
        stages.append(Stage(label, artifact_status, _tone(artifact_status), detail))
    metadata = version.dataset_metadata or {}
    cell_count = metadata.get("cell_count")
    running = job is not None and job.state in ("QUEUED", "RUNNING") and status == "PENDING"
    return DatasetRow(
        dataset_id=version.dataset_id,
        dataset_version_id=version.id,
        title=version.title or metadata.get("title") or version.original_filename or "Untitled dataset",
        filename=version.original_filename,
        status=status,
        tone=_tone(status),
        stages=tuple(stages),
        cell_count=cell_count if isinstance(cell_count, int) else None,
        error_count=len(version.validation_errors or []),
        warning_count=len(version.validation_warnings or []),
        published=version.published_at is not None,
        replaceable=not (
            version.processing_status == ProcessingStatus.PENDING or version.upload_status == UploadStatus.UPLOADING
        ),
        job_step=job.step if running else None,
        job_progress=job.progress if running else None,
        failure_reason=version.failure_reason if status == "PIPELINE_FAILURE" else None,
    )


@dataclass(frozen=True)
class Summary:
    """A collection version's datasets in one line: "3 datasets: 2 ready, 1 failed validation"."""

    total: int
    ready: int
    processing: int
    failed: int

    @property
    def text(self) -> str:
        if not self.total:
            return "no datasets yet"
        parts = [f"{self.ready} ready"] if self.ready else []
        if self.processing:
            parts.append(f"{self.processing} processing")
        if self.failed:
            parts.append(f"{self.failed} failed")
        noun = "dataset" if self.total == 1 else "datasets"
        return f"{self.total} {noun}: " + ", ".join(parts)

    @property
    def publishable(self) -> bool:
        return self.total > 0 and self.ready == self.total


def summarize(statuses: Sequence[str]) -> Summary:
    """``statuses``: the ``processing_status`` of each dataset version."""
    return Summary(
        total=len(statuses),
        ready=sum(s == ProcessingStatus.SUCCESS for s in statuses),
        processing=sum(s in (ProcessingStatus.PENDING, ProcessingStatus.INITIALIZED) for s in statuses),
        failed=sum(s == ProcessingStatus.FAILURE for s in statuses),
    )
