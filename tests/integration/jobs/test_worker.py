"""The pipeline end to end on a real generated dataset, run by a real `cellportal worker` on each broker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cellportal.catalog.statuses import JobState, ProcessingStatus, UploadStatus, ValidationStatus
from cellportal.jobs import submit
from cellportal.runtime import Runtime
from tests.integration.jobs.conftest import WorkerProcess, wait_until
from tests.integration.jobs.helpers import assert_one_verified_set_of_artifacts, job_row, version_row

pytestmark = pytest.mark.slow


@pytest.fixture
def catalog_url(db_url: str) -> str:
    return db_url


# Every broker on the embedded catalog, and the scale-out pair: PostgreSQL + RabbitMQ.
@pytest.mark.parametrize(
    ("db_backend", "broker"),
    [
        ("sqlite", "sqlite"),
        ("sqlite", "redis"),
        ("sqlite", "rabbitmq"),
        pytest.param("postgres", "rabbitmq", marks=pytest.mark.postgres),
    ],
    indirect=["db_backend"],
)
def test_a_dataset_is_processed_by_the_worker(
    runtime: Runtime, collection_version_id: str, dataset_file: Path, start_worker: Callable[[], WorkerProcess]
) -> None:
    worker = start_worker()
    wait_until(lambda: submit.worker_is_alive(runtime), 60, "the worker's presence row")

    submitted = submit.upload_dataset(
        runtime, collection_version_id=collection_version_id, path=dataset_file, use_worker=True
    )
    seen_steps: set[str] = set()

    def remember(states: list[submit.DatasetState]) -> None:
        if states[0].step:
            seen_steps.add(states[0].step)

    try:
        [state] = submit.wait_for(runtime, [submitted], on_update=remember, timeout=240)
    except TimeoutError:
        pytest.fail("processing did not end; worker log:\n" + worker.log_tail())

    assert state.processing_status == "SUCCESS", state.errors
    job = job_row(runtime, submitted.job_id)
    assert job.state == JobState.SUCCEEDED and job.attempts == 1 and job.progress == pytest.approx(1.0)
    assert job.worker and job.worker.startswith("cellportal-")  # the worker ran it, not this process
    assert "convert" in seen_steps  # progress was visible while it ran
    version = version_row(runtime, submitted.dataset_version_id)
    assert version.processing_status == ProcessingStatus.SUCCESS
    assert version.upload_status == UploadStatus.UPLOADED
    assert version.validation_status == ValidationStatus.VALID
    assert version.dataset_metadata and version.title
    assert_one_verified_set_of_artifacts(runtime, submitted.dataset_version_id)
