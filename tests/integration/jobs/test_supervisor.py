"""The supervisor starts the Celery worker again when it dies, and the restarted worker takes jobs."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from cellportal.jobs import submit
from cellportal.runtime import Runtime
from tests.integration.jobs.conftest import WorkerProcess, wait_until

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_a_dead_celery_worker_is_restarted(
    runtime: Runtime, collection_version_id: str, dataset_file: Path, start_worker: Callable[[], WorkerProcess]
) -> None:
    worker = start_worker()
    wait_until(lambda: submit.worker_is_alive(runtime), 60, "the worker")
    [celery] = wait_until(lambda: children(worker.pid), 30, "the Celery child")  # type: ignore[misc]
    os.kill(celery, signal.SIGKILL)
    replacement = wait_until(lambda: [c for c in children(worker.pid) if c != celery], 60, "a new Celery child")
    assert replacement

    submitted = submit.upload_dataset(
        runtime, collection_version_id=collection_version_id, path=dataset_file, use_worker=True
    )
    [state] = submit.wait_for(runtime, [submitted], timeout=400)
    assert state.processing_status == "SUCCESS", [*state.errors, worker.log_tail()]
    assert "exited with -9; starting it again" in worker.log_path.read_text()
