"""A finished upload, or a URL, becomes a dataset version with a queued processing job.

A finished browser upload goes down the same path as `cellportal ingest` (`jobs.submit.submit_stored`): its
bytes are stored as the ``raw_h5ad`` blob and leave the upload area, then the catalog rows are created.
A URL is recorded as the version's ``source_uri``; the pipeline downloads it as its first step.

Who runs the job: the worker when one is alive (the message is sent after commit); otherwise a thread of
this process, as `cellportal ingest` does, so a portal started without a worker still processes uploads.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.jobs.runner import run_job, worker_identity
from cellportal.jobs.service import queue_processing, sender_for
from cellportal.jobs.submit import Submitted, submit_stored, worker_is_alive
from cellportal.runtime import Runtime
from cellportal.storage import BlobInfo
from cellportal.uploads.staging import UploadArea, UploadState

log = logging.getLogger(__name__)


class LocalJobs:
    """Jobs this process runs itself because no worker is alive; one at a time, in submission order."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, job_id: str) -> None:
        thread = threading.Thread(target=self._run, args=(job_id,), name=f"upload-job-{job_id[:8]}", daemon=True)
        with self._lock:
            self._threads = [each for each in self._threads if each.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _run(self, job_id: str) -> None:
        with _serial:
            try:
                run_job(self._runtime, job_id, owner=worker_identity("portal"))
            except Exception:  # the job row records the failure; this thread must not die noisily
                log.exception("processing job %s failed in the portal process", job_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the jobs started so far (tests, shutdown); True when all ended."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)


# The pipeline already uses every core for conversions: running two datasets at once would only thrash.
_serial = threading.Lock()


def finalise_upload(runtime: Runtime, area: UploadArea, state: UploadState, local_jobs: LocalJobs) -> UploadState:
    """Hand a complete upload to the pipeline (the caller holds the upload's lock); returns the receipt.

    Two steps, each recorded, so a retry after a failure or a crash redoes only what is missing: the bytes go
    into the blob store (and leave the upload area), then the catalog gets the dataset version and its job.
    """
    if state.finalised:
        return state
    if state.blob_sha256 is None:
        data = area.data_path(state.id)
        info = runtime.blobs.put_file(data)
        state = area.save(replace(state, blob_sha256=info.sha256))
        data.unlink(missing_ok=True)
    use_worker = worker_is_alive(runtime)
    submitted = submit_stored(
        runtime,
        collection_version_id=state.collection_version_id,
        info=BlobInfo(state.blob_sha256, state.length),  # type: ignore[arg-type]
        filename=state.filename,
        use_worker=use_worker,
        replace_dataset_id=state.replace_dataset_id,
    )
    receipt = area.save(replace(state, dataset_version_id=submitted.dataset_version_id, job_id=submitted.job_id))
    if not use_worker:
        local_jobs.start(submitted.job_id)
    return receipt


def submit_url(
    runtime: Runtime,
    local_jobs: LocalJobs,
    *,
    collection_version_id: str,
    url: str,
    filename: str,
    replace_dataset_id: str | None = None,
) -> Submitted:
    """A dataset version whose original the pipeline downloads from `url` (already checked by the rules)."""
    use_worker = worker_is_alive(runtime)
    sender = sender_for(runtime.settings) if use_worker else None
    with transaction(runtime.sessions) as session:
        if replace_dataset_id:
            version = catalog.replace_dataset(
                session,
                collection_version_id=collection_version_id,
                dataset_id=replace_dataset_id,
                original_filename=filename,
                source_uri=url,
            )
        else:
            version = catalog.create_dataset(
                session, collection_version_id=collection_version_id, original_filename=filename, source_uri=url
            )
        job = queue_processing(session, dataset_version_id=version.id, sender=sender)
        submitted = Submitted(version.dataset_id, version.id, job.id, filename)
    if not use_worker:
        local_jobs.start(submitted.job_id)
    return submitted
