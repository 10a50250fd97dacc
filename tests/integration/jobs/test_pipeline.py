"""The pipeline's convert step on a real dataset: the four conversions start together from the labelled view,
and one that fails marks only its own artifact FAILED (run in this process through run_job, no broker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cellportal.catalog.statuses import ConversionStatus, ProcessingStatus
from cellportal.jobs import submit
from cellportal.jobs.conversions import ConversionTask, run_conversions
from cellportal.jobs.pipeline import Outcome, default_collaborators
from cellportal.jobs.runner import run_job
from cellportal.runtime import Runtime
from tests.integration.jobs.helpers import artifacts_of, version_row

pytestmark = pytest.mark.slow


def run_with_one_broken_input(
    runtime: Runtime, collection_version_id: str, dataset_file: Path, broken: str, tmp_path: Path
) -> tuple[str, Outcome | None, list[list[str]]]:
    """Process `dataset_file`, giving the `broken` conversion a file that is not HDF5 (so its real converter
    fails in its real child process); returns the version id, the outcome and the batches of tasks started."""
    not_hdf5 = tmp_path / "not-hdf5.h5ad"
    not_hdf5.write_text("not an HDF5 file")
    batches: list[list[str]] = []

    def conversions(tasks: list[ConversionTask], **options: Any) -> Any:
        batches.append([t.artifact_type for t in tasks])
        tasks = [
            ConversionTask(t.artifact_type, not_hdf5, t.dest, t.context) if t.artifact_type == broken else t
            for t in tasks
        ]
        return run_conversions(tasks, **options)

    collaborators = default_collaborators(runtime.blobs, public_url="https://cells.example.org", parallelism=2)
    collaborators.run_conversions = conversions
    submitted = submit.upload_dataset(
        runtime, collection_version_id=collection_version_id, path=dataset_file, use_worker=False
    )
    outcome = run_job(runtime, submitted.job_id, collaborators=collaborators)
    return submitted.dataset_version_id, outcome, batches


def test_a_failing_optional_conversion_fails_alone(
    runtime: Runtime, collection_version_id: str, dataset_file: Path, tmp_path: Path
) -> None:
    version_id, outcome, batches = run_with_one_broken_input(
        runtime, collection_version_id, dataset_file, "loom", tmp_path
    )
    # All four started from the label step's output in one batch: none waits for the labelled h5ad.
    assert len(batches) == 1 and sorted(batches[0]) == ["explorer", "h5ad", "loom", "rds"]
    assert outcome is Outcome.SUCCESS
    artifacts = {a.type: a for a in artifacts_of(runtime, version_id)}
    assert artifacts["loom"].status == ConversionStatus.FAILED
    assert "HDF5" in (artifacts["loom"].status_message or "")
    for kind in ("h5ad", "explorer", "rds"):
        assert artifacts[kind].status == ConversionStatus.CONVERTED, (kind, artifacts[kind].status_message)
        assert runtime.blobs.verify(artifacts[kind].sha256)
    assert version_row(runtime, version_id).processing_status == ProcessingStatus.SUCCESS


def test_without_the_labelled_h5ad_the_dataset_fails_but_the_others_are_kept(
    runtime: Runtime, collection_version_id: str, dataset_file: Path, tmp_path: Path
) -> None:
    version_id, outcome, _ = run_with_one_broken_input(runtime, collection_version_id, dataset_file, "h5ad", tmp_path)
    assert outcome is Outcome.PIPELINE_FAILURE
    version = version_row(runtime, version_id)
    assert version.processing_status == ProcessingStatus.FAILURE
    assert "h5ad download could not be made" in (version.failure_reason or "")
    artifacts = {a.type: a for a in artifacts_of(runtime, version_id)}
    assert artifacts["h5ad"].status == ConversionStatus.FAILED
    assert {artifacts[k].status for k in ("explorer", "rds", "loom")} == {ConversionStatus.CONVERTED}
