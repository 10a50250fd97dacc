"""kill -9 the whole worker in the middle of a job: a new worker finishes it, with one set of artifacts.

On the SQLite broker the killed worker's message is lost for good (the infrastructure notes measured it);
the job row's silent heartbeat is what brings the job back, through the new worker's reaper.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cellportal.catalog.statuses import JobState
from cellportal.jobs import submit
from cellportal.runtime import Runtime
from tests.integration.jobs.conftest import WorkerProcess, live_nodes, wait_until
from tests.integration.jobs.helpers import assert_one_verified_set_of_artifacts, job_row, version_row

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("broker", ["sqlite", "redis", "rabbitmq"])
def test_killed_worker_job_finishes_on_a_new_worker(
    runtime: Runtime, collection_version_id: str, dataset_file: Path, start_worker: Callable[[], WorkerProcess]
) -> None:
    first = start_worker()
    wait_until(lambda: submit.worker_is_alive(runtime), 60, "the first worker")
    submitted = submit.upload_dataset(
        runtime, collection_version_id=collection_version_id, path=dataset_file, use_worker=True
    )

    def mid_job() -> bool:
        job = job_row(runtime, submitted.job_id)
        assert job.state != JobState.SUCCEEDED, "the job ended before it could be interrupted; use a bigger dataset"
        return job.state == JobState.RUNNING and job.step == "convert"

    try:
        wait_until(mid_job, 400, "the job to be converting")
    except AssertionError:
        pytest.fail(f"{job_row(runtime, submitted.job_id).__dict__}\nworker log:\n{first.log_tail()}")
    killed_owner = job_row(runtime, submitted.job_id).worker
    first.kill_everything()

    second = start_worker()
    # The killed worker's presence row looks alive for a few more seconds: wait for this one's own row.
    wait_until(lambda: second.node in live_nodes(runtime), 120, "the second worker's presence")
    try:
        [state] = submit.wait_for(runtime, [submitted], timeout=240)
    except TimeoutError:
        pytest.fail("the job was not finished after the kill; new worker's log:\n" + second.log_tail())

    assert state.processing_status == "SUCCESS", state.errors
    job = job_row(runtime, submitted.job_id)
    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2, "the job should have been run once more, by the new worker"
    assert job.worker != killed_owner and job.worker.startswith("cellportal-")  # run by the new worker
    assert version_row(runtime, submitted.dataset_version_id).failure_reason is None
    assert_one_verified_set_of_artifacts(runtime, submitted.dataset_version_id)
