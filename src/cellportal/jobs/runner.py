"""Run one job to its end: claim the row, keep it alive, run the pipeline, record how it ended.

Used by the Celery task in a worker and by ``cellportal ingest`` in its own process when no worker is
alive; both go through the same claim, so a job is never run twice at once.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import uuid

from cellportal.catalog.db import transaction
from cellportal.jobs import repository
from cellportal.jobs.heartbeat import Heartbeat, LeaseLost, Progress
from cellportal.jobs.pipeline import Collaborators, Outcome, default_collaborators, process_dataset
from cellportal.jobs.recorder import DatasetRecorder
from cellportal.runtime import Runtime
from cellportal.uploads.rules import UrlPolicy

log = logging.getLogger(__name__)


def worker_identity(prefix: str = "worker") -> str:
    """Unique per attempt: fencing a job by this name keeps a presumed-dead worker from writing."""
    node = prefix if "@" in prefix else f"{prefix}@{socket.gethostname()}"
    return f"{node}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_job(
    runtime: Runtime, job_id: str, *, owner: str | None = None, collaborators: Collaborators | None = None
) -> Outcome | None:
    """Returns the dataset outcome, or None when the job was not ours to run (done, or running elsewhere)."""
    settings = runtime.settings
    owner = owner or worker_identity()
    with transaction(runtime.sessions) as session:
        claimed = repository.claim(
            session,
            job_id,
            worker=owner,
            stale_seconds=settings.job_stale_seconds,
            max_attempts=settings.job_max_attempts,
        )
        if not claimed:
            log.info("job %s is finished or running elsewhere; message dropped", job_id)
            return None
        job = repository.get_job(session, job_id)
        assert job is not None
        dataset_version_id, attempt = job.dataset_version_id, job.attempts
    if dataset_version_id is None:
        with transaction(runtime.sessions) as session:
            repository.fail(session, job_id, worker=owner, error="the dataset version was deleted")
        return None
    log.info("job %s (dataset version %s) attempt %d by %s", job_id, dataset_version_id, attempt, owner)

    recorder = DatasetRecorder(runtime.sessions, dataset_version_id)
    # One folder per attempt; earlier attempts' folders are debris of killed workers (their converters
    # died with them), so they go before this attempt starts.
    attempts_dir = settings.work_dir / dataset_version_id
    shutil.rmtree(attempts_dir, ignore_errors=True)
    work_dir = attempts_dir / owner.rsplit(":", 1)[-1]
    with Heartbeat(runtime.sessions, job_id, owner, settings.job_heartbeat_seconds) as beat:
        progress = Progress(runtime.sessions, job_id, owner, beat.lost)
        try:
            collaborators = collaborators or default_collaborators(
                runtime.blobs, public_url=settings.public_url, source_urls=UrlPolicy.of(settings)
            )
            outcome = process_dataset(recorder, collaborators, work_dir, progress)
        except LeaseLost:
            log.warning("job %s was taken over by another worker; this attempt stops", job_id)
            return None
        except Exception as error:
            log.exception("job %s failed", job_id)
            reason = f"unexpected error: {type(error).__name__}: {error}"
            recorder.pipeline_failure(reason)
            with transaction(runtime.sessions) as session:
                repository.fail(session, job_id, worker=owner, error=reason)
            return Outcome.PIPELINE_FAILURE
    with transaction(runtime.sessions) as session:
        if outcome is Outcome.PIPELINE_FAILURE:
            repository.fail(session, job_id, worker=owner, error="pipeline failure (see the dataset's failure_reason)")
        else:
            repository.finish(session, job_id, worker=owner)
    shutil.rmtree(attempts_dir, ignore_errors=True)
    log.info("job %s ended: %s", job_id, outcome)
    return outcome
