"""Starting dataset processing: what the upload paths (web, Curation API, CLI) call.

Both functions only add rows to the caller's session; the message to the worker is sent when that
session commits (outbox), so it can never point at a row that was rolled back.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cellportal.catalog.models import Artifact, DatasetVersion, Job
from cellportal.catalog.statuses import ArtifactType, ConversionStatus, ProcessingStatus, UploadStatus
from cellportal.config import Settings
from cellportal.jobs import repository
from cellportal.jobs.outbox import Sender, celery_sender, send_after_commit
from cellportal.storage import BlobInfo, BlobStore


@lru_cache(maxsize=8)
def _sender_for(broker_url: str, settings_json: str) -> Sender:
    from cellportal.jobs.celery_app import make_celery

    return celery_sender(make_celery(Settings.model_validate_json(settings_json)))


def sender_for(settings: Settings) -> Sender:
    """One Celery producer per broker and process, reused for every message."""
    return _sender_for(settings.resolved_broker_url, settings.model_dump_json())


def attach_original(session: Session, *, dataset_version_id: str, info: BlobInfo, filename: str | None = None) -> None:
    """Record a stored upload as the version's ``raw_h5ad`` artifact (upsert: uploading again replaces it)."""
    version = session.get(DatasetVersion, dataset_version_id)
    if version is None:
        raise LookupError(f"dataset version {dataset_version_id} does not exist")
    artifact = session.scalars(
        select(Artifact).where(
            Artifact.dataset_version_id == dataset_version_id, Artifact.type == ArtifactType.RAW_H5AD
        )
    ).first()
    if artifact is None:
        artifact = Artifact(dataset_version_id=dataset_version_id, type=ArtifactType.RAW_H5AD)
        session.add(artifact)
    artifact.status, artifact.sha256, artifact.size = ConversionStatus.CONVERTED, info.sha256, info.size
    version.upload_status = UploadStatus.UPLOADED
    if filename:
        version.original_filename = filename
    session.flush()


def store_original(blobs: BlobStore, path: Path) -> BlobInfo:
    """Put the file in the blob store (outside any transaction: it can take minutes)."""
    return blobs.put_file(path)


def queue_processing(session: Session, *, dataset_version_id: str, sender: Sender | None) -> Job:
    """Create the job row; with a sender, the message goes out after commit. ``sender=None``: the caller
    runs the job itself (``cellportal ingest`` with no live worker)."""
    version = session.get(DatasetVersion, dataset_version_id)
    if version is None:
        raise LookupError(f"dataset version {dataset_version_id} does not exist")
    version.processing_status = ProcessingStatus.PENDING
    job = repository.create_job(session, dataset_version_id=dataset_version_id)
    if sender is not None:
        send_after_commit(session, job.id, sender)
    return job
