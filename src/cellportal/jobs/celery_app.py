"""The Celery application, built from the settings for whichever broker they name.

One code path: ``sqla+sqlite://`` on one machine, ``redis://`` or ``amqp://`` at scale. What differs per
broker is only the transport options, and those must stay per broker: the SQLAlchemy transport hands its
options to ``create_engine()`` and crashes on Redis keys such as ``visibility_timeout``.
Crash recovery does not rely on the broker (the SQLite transport loses a message whose worker was
killed): the job rows and the reaper re-queue silent jobs on every broker alike.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from cellportal.config import Settings

PROCESS_DATASET_TASK = "dataset.process"

# Longer than any job we expect; a Redis message is redelivered after this, a task killed after the limit.
LONGEST_JOB_SECONDS = 4 * 3600


def transport_options(broker_url: str) -> dict[str, Any]:
    if broker_url.startswith(("redis://", "rediss://")):
        return {
            "visibility_timeout": LONGEST_JOB_SECONDS + 1800,
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
        }
    if broker_url.startswith("sqla+"):
        # Passed to create_engine(): wait for the file lock instead of failing at pysqlite's 5 s default.
        return {"connect_args": {"timeout": 30}} if "sqlite" in broker_url else {}
    return {}


def make_celery(settings: Settings) -> Celery:
    broker_url = settings.resolved_broker_url
    if broker_url.startswith("sqla+sqlite"):
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    app = Celery("cellportal", broker=broker_url, set_as_current=False)
    app.conf.update(
        broker_transport_options=transport_options(broker_url),
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.queue_name,
        task_ignore_result=True,  # progress and outcome live in the job rows, not a result backend
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=1,  # a fresh process per job: memory of a multi-GB dataset is given back
        task_time_limit=LONGEST_JOB_SECONDS,
        task_soft_time_limit=LONGEST_JOB_SECONDS - 600,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_enable_remote_control=not broker_url.startswith("sqla+"),  # no fanout on the SQL transport
    )
    return app
