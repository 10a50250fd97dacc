"""`cellportal ingest --json`: exit codes and the JSON shape, with no server and with a running worker."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cellportal.catalog.db import transaction
from cellportal.catalog.models import Job
from cellportal.config import Settings
from cellportal.jobs import submit
from cellportal.runtime import Runtime
from tests.integration.cli.conftest import parse_json
from tests.integration.jobs.conftest import WorkerProcess, wait_until

pytestmark = pytest.mark.slow

Cli = Callable[..., subprocess.CompletedProcess[str]]
REQUIRED = ["--name", "Ingested", "--description", "From the CLI", "--contact-name", "A Curator"]


def ingest_args(*files: Path, email: str = "curator@example.org", extra: tuple[str, ...] = ()) -> list[str]:
    return ["ingest", *REQUIRED, "--contact-email", email, *extra, "--json", *map(str, files)]


def test_ingest_publishes_a_good_file(cli: Cli, small_dataset: Path) -> None:
    result = cli(*ingest_args(small_dataset, extra=("--publish", "--doi", "10.1000/xyz123")))
    assert result.returncode == 0, result.stderr
    body = parse_json(result)
    assert set(body) == {"collection_id", "collection_version_id", "datasets"}
    [dataset] = body["datasets"]
    assert set(dataset) == {"dataset_id", "dataset_version_id", "processing_status", "errors"}
    assert dataset["processing_status"] == "SUCCESS" and dataset["errors"] == []

    listed = parse_json(cli("collections", "--json"))
    assert [c["collection_id"] for c in listed] == [body["collection_id"]]
    assert listed[0]["state"] == "published" and listed[0]["doi"]
    datasets = parse_json(cli("datasets", "--json"))
    assert [d["dataset_version_id"] for d in datasets] == [dataset["dataset_version_id"]]
    assert "loom:CONVERTED" in datasets[0]["artifacts"]


def test_ingest_exits_non_zero_when_a_dataset_fails_and_does_not_publish(
    cli: Cli, small_dataset: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.h5ad"
    broken.write_bytes(b"this is not an h5ad file")
    result = cli(*ingest_args(small_dataset, broken, extra=("--publish",)))
    assert result.returncode == 1, result.stderr
    good, bad = parse_json(result)["datasets"]
    assert good["processing_status"] == "SUCCESS"
    assert bad["processing_status"] == "VALIDATION_FAILURE"
    assert any("not an HDF5 file" in message for message in bad["errors"])
    assert parse_json(cli("collections", "--json")) == []  # nothing published
    private = parse_json(cli("collections", "--all", "--json"))
    assert len(private) == 1 and private[0]["state"] == "private/revision"


def test_ingest_refuses_bad_collection_fields(cli: Cli, small_dataset: Path) -> None:
    result = cli(*ingest_args(small_dataset, email="not-an-email"))
    assert result.returncode == 2
    assert "error" in result.stderr.lower()


def test_ingest_hands_the_work_to_a_running_worker(
    cli: Cli, small_dataset: Path, settings: Settings, tmp_path: Path
) -> None:
    runtime = Runtime(settings)
    worker = None
    try:
        from cellportal.catalog.migrate import upgrade

        upgrade(runtime.engine)
        worker = WorkerProcess(settings, tmp_path / "worker.log")
        wait_until(lambda: submit.worker_is_alive(runtime), 60, "the worker")
        result = cli(*ingest_args(small_dataset))
        assert result.returncode == 0, result.stderr + "\n" + worker.log_tail()
        [dataset] = parse_json(result)["datasets"]
        assert dataset["processing_status"] == "SUCCESS"
        assert "running worker" in " ".join(result.stderr.split())  # Rich wraps lines at the terminal width
        with transaction(runtime.sessions) as session:
            job = session.query(Job).filter(Job.dataset_version_id == dataset["dataset_version_id"]).one()
            assert job.worker and job.worker.startswith("cellportal-")  # the worker ran it, not ingest
    finally:
        if worker is not None:
            worker.stop()
        runtime.close()
