"""Submitting files and waiting for them: the scripted path shared by `cellportal ingest` and the demo.

A worker is used when one is alive (its presence row is fresh); otherwise the jobs run here, in this
process, through the same runner and claim, so `ingest` works with or without a server.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.catalog.models import DatasetVersion, Job
from cellportal.catalog.statuses import JobState, ProcessingStatus, api_status
from cellportal.jobs import repository
from cellportal.jobs.reaper import policy_from, reap_once
from cellportal.jobs.runner import run_job, worker_identity
from cellportal.jobs.service import attach_original, queue_processing, sender_for
from cellportal.runtime import Runtime
from cellportal.storage import BlobInfo

COPY_CHUNK = 8 * 1024 * 1024
UploadProgress = Callable[[int, int], None]  # bytes done, bytes total


@dataclass
class Submitted:
    dataset_id: str
    dataset_version_id: str
    job_id: str
    filename: str


@dataclass
class DatasetState:
    """What a watcher shows for one dataset, read from its job row and its version row."""

    dataset_version_id: str
    job_state: str
    step: str | None
    progress: float
    processing_status: str  # API level: PENDING | SUCCESS | VALIDATION_FAILURE | PIPELINE_FAILURE
    errors: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.processing_status != ProcessingStatus.PENDING and self.job_state in (
            JobState.SUCCEEDED,
            JobState.FAILED,
        )


def presence_window(runtime: Runtime) -> float:
    # Presence is written every job_heartbeat_seconds; allow a few missed beats.
    return max(3 * runtime.settings.job_heartbeat_seconds, 10.0)


def worker_is_alive(runtime: Runtime) -> bool:
    with transaction(runtime.sessions) as session:
        return bool(repository.live_workers(session, stale_seconds=presence_window(runtime)))


def stage_file(source: Path, staging_dir: Path, on_progress: UploadProgress | None = None) -> Path:
    """Copy the file into the portal's work area in chunks (the progress bar's bytes), then it is stored
    from this snapshot: a file edited while uploading cannot end up half old, half new."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    staged = staging_dir / f"upload-{uuid.uuid4().hex}.h5ad"
    total = source.stat().st_size
    done = 0
    with open(source, "rb") as reader, open(staged, "wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            writer.write(chunk)
            done += len(chunk)
            if on_progress:
                on_progress(done, total)
    if on_progress and total == 0:
        on_progress(0, 0)
    return staged


def upload_dataset(
    runtime: Runtime,
    *,
    collection_version_id: str,
    path: Path,
    use_worker: bool,
    replace_dataset_id: str | None = None,
    on_progress: UploadProgress | None = None,
) -> Submitted:
    """Store the file, then in one transaction create the dataset version, its raw artifact and its job."""
    staged = stage_file(path, runtime.settings.work_dir / "uploads", on_progress)
    return submit_staged(
        runtime,
        collection_version_id=collection_version_id,
        staged=staged,
        filename=path.name,
        use_worker=use_worker,
        replace_dataset_id=replace_dataset_id,
    )


def submit_staged(
    runtime: Runtime,
    *,
    collection_version_id: str,
    staged: Path,
    filename: str,
    use_worker: bool,
    replace_dataset_id: str | None = None,
) -> Submitted:
    """Store a file already in the work area (a CLI snapshot), consuming it, then `submit_stored`."""
    try:
        info = runtime.blobs.put_file(staged)
    finally:
        staged.unlink(missing_ok=True)
    return submit_stored(
        runtime,
        collection_version_id=collection_version_id,
        info=info,
        filename=filename,
        use_worker=use_worker,
        replace_dataset_id=replace_dataset_id,
    )


def submit_stored(
    runtime: Runtime,
    *,
    collection_version_id: str,
    info: BlobInfo,
    filename: str,
    use_worker: bool,
    replace_dataset_id: str | None = None,
) -> Submitted:
    """In one transaction: the dataset version (new, or replacing one), its raw artifact (the stored blob
    `info`) and its processing job. Shared by `cellportal ingest` and the browser's resumable uploads."""
    sender = sender_for(runtime.settings) if use_worker else None
    with transaction(runtime.sessions) as session:
        if replace_dataset_id:
            version = catalog.replace_dataset(
                session,
                collection_version_id=collection_version_id,
                dataset_id=replace_dataset_id,
                original_filename=filename,
            )
        else:
            version = catalog.create_dataset(
                session, collection_version_id=collection_version_id, original_filename=filename
            )
        attach_original(session, dataset_version_id=version.id, info=info)
        job = queue_processing(session, dataset_version_id=version.id, sender=sender)
        submitted = Submitted(version.dataset_id, version.id, job.id, filename)
    return submitted  # the message, if any, left when the transaction committed


def error_messages(version: DatasetVersion) -> list[str]:
    messages = [_message(item) for item in version.validation_errors or []]
    if version.processing_status == ProcessingStatus.FAILURE and version.failure_reason:
        messages.append(version.failure_reason)
    return messages


def _message(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("message") or item)
    return str(item)


def read_states(runtime: Runtime, submitted: Sequence[Submitted]) -> list[DatasetState]:
    states = []
    with transaction(runtime.sessions) as session:
        for item in submitted:
            job = session.get(Job, item.job_id)
            version = session.get(DatasetVersion, item.dataset_version_id)
            assert job is not None and version is not None
            states.append(
                DatasetState(
                    dataset_version_id=version.id,
                    job_state=job.state,
                    step=job.step,
                    progress=job.progress,
                    processing_status=api_status(version.processing_status, version.validation_status),
                    errors=error_messages(version),
                )
            )
    return states


def wait_for(
    runtime: Runtime,
    submitted: Sequence[Submitted],
    *,
    on_update: Callable[[list[DatasetState]], None] | None = None,
    poll_seconds: float = 0.3,
    timeout: float | None = None,
) -> list[DatasetState]:
    """Wait until every job ended. Jobs no live worker picks up are run here, one after another.

    With no worker at the start, that happens at once. A worker that disappears later (restarting, or its
    server stopped) is given one more presence window to come back before this process takes over.
    """
    local: threading.Thread | None = None
    absent_since: float | None = None
    grace = 0.0  # none at the start
    deadline = time.monotonic() + timeout if timeout else None
    pending_local: list[str] = []

    def run_locally() -> None:
        while pending_local:
            run_job(runtime, pending_local.pop(0), owner=worker_identity("ingest"))

    while True:
        states = read_states(runtime, submitted)
        if on_update:
            on_update(states)
        if all(state.finished for state in states):
            return states
        idle_here = local is None or not local.is_alive()
        if idle_here and worker_is_alive(runtime):
            absent_since, grace = None, presence_window(runtime)
        elif idle_here:
            absent_since = absent_since if absent_since is not None else time.monotonic()
        if idle_here and absent_since is not None and time.monotonic() - absent_since >= grace:
            # Nobody will run QUEUED jobs (no server, or it stopped while we waited): do it here. Jobs whose
            # worker died go back to QUEUED first, as a server's reaper would do.
            reap_once(runtime.sessions, policy_from(runtime.settings), sender=lambda _job_id: None)
            queued = [
                item.job_id for item, state in zip(submitted, states, strict=True) if state.job_state == JobState.QUEUED
            ]
            if queued:
                pending_local[:] = queued
                local = threading.Thread(target=run_locally, name="ingest-pipeline", daemon=True)
                local.start()
        if deadline and time.monotonic() > deadline:
            raise TimeoutError("datasets still processing: " + ", ".join(s.dataset_version_id for s in states))
        time.sleep(poll_seconds)
