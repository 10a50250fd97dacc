"""Starting dataset processing: what the upload paths (web, Curation API, CLI) call.

Both functions only add rows to the caller's session; the message to the worker is sent when that
session commits (outbox), so it can never point at a row that was rolled back.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from cellportal.catalog import service as catalog
from cellportal.catalog.models import Job
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


def attach_original(session: Session, *, dataset_version_id: str, info: BlobInfo) -> None:
    """Record a stored upload as the version's ``raw_h5ad`` artifact (upsert: uploading again replaces it)."""
    catalog.record_artifact(
        session,
        dataset_version_id=dataset_version_id,
        type=ArtifactType.RAW_H5AD,
        status=ConversionStatus.CONVERTED,
        sha256=info.sha256,
        size=info.size,
    )
    catalog.set_dataset_status(session, dataset_version_id=dataset_version_id, upload_status=UploadStatus.UPLOADED)


def store_original(blobs: BlobStore, path: Path) -> BlobInfo:
    """Put the file in the blob store (outside any transaction: it can take minutes)."""
    return blobs.put_file(path)


def queue_processing(session: Session, *, dataset_version_id: str, sender: Sender | None) -> Job:
    """Create the job row; with a sender, the message goes out after commit. ``sender=None``: the caller
    runs the job itself (``cellportal ingest`` with no live worker)."""
    catalog.set_dataset_status(
        session, dataset_version_id=dataset_version_id, processing_status=ProcessingStatus.PENDING
    )
    job = repository.create_job(session, dataset_version_id=dataset_version_id)
    if sender is not None:
        send_after_commit(session, job.id, sender)
    return job
