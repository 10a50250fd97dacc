"""A corrupt upload fails its own dataset with a clear message; a good one beside it succeeds, and the
worker that met the corrupt file keeps working."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import pytest

from cellportal.catalog.statuses import JobState, ValidationStatus
from cellportal.jobs import submit
from cellportal.runtime import Runtime
from tests.integration.jobs.conftest import WorkerProcess, wait_until
from tests.integration.jobs.helpers import artifacts_of, assert_one_verified_set_of_artifacts, job_row, version_row

pytestmark = pytest.mark.slow


@pytest.fixture
def bad_files(tmp_path: Path, dataset_file: Path) -> dict[str, Path]:
    truncated = tmp_path / "truncated.h5ad"
    truncated.write_bytes(dataset_file.read_bytes()[: dataset_file.stat().st_size // 3])
    not_hdf5 = tmp_path / "notes.h5ad"
    not_hdf5.write_text("cell_id,cell_type\nAAAC,T cell\n")
    untitled = tmp_path / "untitled.h5ad"  # readable, but the schema requires uns["title"]
    shutil.copyfile(dataset_file, untitled)
    with h5py.File(untitled, "r+") as handle:
        del handle["uns/title"]
    return {"truncated": truncated, "not_hdf5": not_hdf5, "untitled": untitled}


def test_corrupt_files_fail_alone(
    runtime: Runtime,
    collection_version_id: str,
    dataset_file: Path,
    bad_files: dict[str, Path],
    start_worker: Callable[[], WorkerProcess],
) -> None:
    worker = start_worker()
    wait_until(lambda: submit.worker_is_alive(runtime), 60, "the worker")
    paths = [bad_files["truncated"], dataset_file, bad_files["not_hdf5"], bad_files["untitled"]]
    submitted = [
        submit.upload_dataset(runtime, collection_version_id=collection_version_id, path=p, use_worker=True)
        for p in paths
    ]
    truncated, good, not_hdf5, untitled = submit.wait_for(runtime, submitted, timeout=400)

    assert good.processing_status == "SUCCESS", good.errors
    assert_one_verified_set_of_artifacts(runtime, good.dataset_version_id)

    assert truncated.processing_status == "VALIDATION_FAILURE"
    assert any("truncated or damaged" in message for message in truncated.errors), truncated.errors
    assert not_hdf5.processing_status == "VALIDATION_FAILURE"
    assert any("not an HDF5 file" in message for message in not_hdf5.errors), not_hdf5.errors

    assert untitled.processing_status == "VALIDATION_FAILURE"
    assert any("title" in message for message in untitled.errors), untitled.errors
    version = version_row(runtime, untitled.dataset_version_id)
    assert version.validation_status == ValidationStatus.INVALID
    assert all(error.get("code") and error.get("message") for error in version.validation_errors)
    # Nothing is converted for an invalid dataset: the original is all it keeps.
    assert {a.type for a in artifacts_of(runtime, untitled.dataset_version_id)} == {"raw_h5ad"}

    # Each job ran once, in the worker, which is still alive to take the next one.
    for item in submitted:
        job = job_row(runtime, item.job_id)
        assert job.state == JobState.SUCCEEDED and job.attempts == 1
    assert worker.process.poll() is None
    assert submit.worker_is_alive(runtime)
