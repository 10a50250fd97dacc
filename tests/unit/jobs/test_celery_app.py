"""Celery settings per broker: crash-safe options everywhere, Redis keys never reach the SQL transport."""

from __future__ import annotations

from pathlib import Path

import pytest

from cellportal.config import Settings
from cellportal.jobs.celery_app import LONGEST_JOB_SECONDS, make_celery, transport_options

REDIS_ONLY = {"visibility_timeout", "unacked_restore_interval", "unacked_restore_throttle"}


@pytest.mark.parametrize(
    "url",
    ["sqla+sqlite:////tmp/x/broker.sqlite", "redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672//"],
)
def test_every_broker_gets_one_job_per_child_and_late_acks(url: str, tmp_path: Path) -> None:
    conf = make_celery(Settings(data_dir=tmp_path, broker_url=url, queue_name="q")).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_max_tasks_per_child == 1
    assert conf.task_default_queue == "q"


def test_redis_visibility_timeout_outlives_the_longest_job() -> None:
    options = transport_options("redis://127.0.0.1:6379/0")
    assert options.keys() >= REDIS_ONLY
    assert options["visibility_timeout"] > LONGEST_JOB_SECONDS


@pytest.mark.parametrize("url", ["sqla+sqlite:////tmp/x/broker.sqlite", "amqp://guest@127.0.0.1//"])
def test_no_redis_keys_elsewhere(url: str) -> None:
    # The SQLAlchemy transport passes its options to create_engine(), which refuses unknown keywords.
    assert not REDIS_ONLY & transport_options(url).keys()


def test_the_sql_transport_options_are_accepted_by_create_engine(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'b.sqlite'}", **transport_options("sqla+sqlite:///b.sqlite"))
    with engine.connect():
        pass
    engine.dispose()
