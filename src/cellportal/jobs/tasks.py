"""Celery tasks: ids in, the plain runner inside (STYLE habit 7).

A worker process builds its Runtime lazily, after the fork, from the settings the worker was started
with; with ``worker_max_tasks_per_child=1`` every job gets a fresh process and a fresh engine.
"""

from __future__ import annotations

import logging

from celery import Celery
from celery.signals import worker_process_init

from cellportal.config import Settings
from cellportal.jobs._process import die_with_parent
from cellportal.jobs.celery_app import PROCESS_DATASET_TASK
from cellportal.runtime import Runtime

log = logging.getLogger(__name__)

_runtime: Runtime | None = None
_settings: Settings | None = None


def register(app: Celery, settings: Settings) -> None:
    global _settings
    _settings = settings

    @app.task(name=PROCESS_DATASET_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def process_dataset(self: object, job_id: str) -> str | None:
        from cellportal.jobs.runner import run_job, worker_identity

        outcome = run_job(
            _process_runtime(), job_id, owner=worker_identity(str(getattr(self.request, "hostname", "worker")))
        )  # type: ignore[attr-defined]
        return str(outcome) if outcome else None


def _process_runtime() -> Runtime:
    global _runtime
    die_with_parent()  # a pool child outliving its Celery process would heartbeat a job nobody can ack
    if _runtime is None:
        assert _settings is not None, "tasks.register() was not called in this process"
        _runtime = Runtime(_settings)
    return _runtime


@worker_process_init.connect
def _after_fork(**_: object) -> None:
    # Connections pooled before the fork belong to the parent; never share them (dispose without closing).
    global _runtime
    die_with_parent()  # a pool child outliving its Celery process would heartbeat a job nobody can ack
    if _runtime is not None and "engine" in _runtime.__dict__:
        _runtime.engine.dispose(close=False)
    _runtime = None
