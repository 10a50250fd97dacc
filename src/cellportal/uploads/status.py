"""What a dataset's status row shows while its file is stored and processed: one JSON-ready dict.

Built from the version row (the API-level processing status, validation errors), its newest job row (state,
step, progress) and its artifacts (one conversion status each). ``finished`` tells the browser to stop polling.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cellportal.catalog.models import DatasetVersion
from cellportal.catalog.statuses import ArtifactType, JobState, ProcessingStatus, api_status
from cellportal.jobs import repository as jobs
from cellportal.jobs.submit import error_messages

SHOWN_ERRORS = 20  # the full list is on the dataset's page; the status row shows the first ones
ARTIFACT_ORDER = [ArtifactType.RAW_H5AD, ArtifactType.H5AD, ArtifactType.EXPLORER, ArtifactType.RDS, ArtifactType.LOOM]


def dataset_version_status(session: Session, version: DatasetVersion) -> dict[str, Any]:
    job = jobs.latest_job_for(session, version.id)
    errors = error_messages(version)
    job_ended = job is None or job.state in (JobState.SUCCEEDED, JobState.FAILED)
    artifacts = sorted(version.artifacts, key=lambda each: _rank(each.type))
    return {
        "dataset_version_id": version.id,
        "dataset_id": version.dataset_id,
        "filename": version.original_filename,
        "source_uri": version.source_uri,
        "processing_status": api_status(version.processing_status, version.validation_status),
        "upload_status": version.upload_status,
        "validation_status": version.validation_status,
        "job": None
        if job is None
        else {
            "state": job.state,
            "step": job.step,
            "progress": round(job.progress, 4),
            "attempts": job.attempts,
        },
        "artifacts": [{"type": each.type, "status": each.status, "message": each.status_message} for each in artifacts],
        "error_count": len(errors),
        "errors": errors[:SHOWN_ERRORS],
        "finished": version.processing_status in (ProcessingStatus.SUCCESS, ProcessingStatus.FAILURE) and job_ended,
    }


def _rank(artifact_type: str) -> int:
    try:
        return ARTIFACT_ORDER.index(ArtifactType(artifact_type))
    except ValueError:
        return len(ARTIFACT_ORDER)
