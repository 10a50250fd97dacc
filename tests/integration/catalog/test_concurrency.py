"""Concurrent writers: two processes on one SQLite file, and racing "start a revision" calls on both backends."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from cellportal.catalog import service
from cellportal.catalog.db import make_engine, make_session_factory, transaction
from cellportal.catalog.errors import Conflict, ImmutableVersion
from cellportal.catalog.models import Artifact
from tests.fixtures.builders import make_collection
from tests.fixtures.database import UnitOfWork

TRANSACTIONS = 25


def _writer(url: str, dataset_version_id: str, kind: str, errors: multiprocessing.Queue) -> None:
    """A web-like or worker-like process: each transaction reads, then writes (the case deferred BEGIN fails)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        for number in range(TRANSACTIONS):
            with transaction(factory) as db:
                _, version = service.resolve_dataset(db, dataset_version_id)
                service.set_dataset_status(db, dataset_version_id=version.id, failure_reason=f"{kind} {number}")
                service.record_artifact(db, dataset_version_id=version.id, type=kind, status="CONVERTED", size=number)
    except Exception as error:  # reported to the test, which fails with it
        errors.put(f"{kind}: {error!r}")
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_two_processes_writing_to_one_sqlite_file_do_not_fail(uow: UnitOfWork, db_url: str, engine: Engine) -> None:
    with uow() as db:
        version = make_collection(db, datasets=2, published=False, artifacts=())
        first, second = (dv.id for dv in version.dataset_versions)
    # fork (cheap) with no connection of ours open: each child opens its own engine, as a real process does.
    engine.dispose()
    context = multiprocessing.get_context("fork")
    errors: multiprocessing.Queue = context.Queue()
    processes = [
        context.Process(target=_writer, args=(db_url, first, "h5ad", errors)),
        context.Process(target=_writer, args=(db_url, second, "rds", errors)),
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    failures = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert failures == [] and all(p.exitcode == 0 for p in processes)
    with uow() as db:
        rows = db.execute(select(Artifact.type, Artifact.size, func.count()).group_by(Artifact.type, Artifact.size))
        assert sorted(rows) == [(kind, TRANSACTIONS - 1, 1) for kind in ("h5ad", "rds")]


def _race(racers: int, attempt: Callable[[], None], expected: type[Exception]) -> list[str]:
    """Run ``attempt`` in threads released together; each outcome is "ok", "refused" or the unexpected error."""
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def run() -> None:
        barrier.wait()
        try:
            attempt()
            outcomes.append("ok")
        except expected:
            outcomes.append("refused")
        except Exception as error:  # anything else (a lock error, an integrity error) fails the test
            outcomes.append(repr(error))

    threads = [threading.Thread(target=run) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_racing_revisions_one_wins_the_others_get_conflict(
    uow: UnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with uow() as db:
        collection_id = make_collection(db, datasets=1).collection_id

    def start() -> None:
        with transaction(session_factory) as db:
            service.start_revision(db, collection_id=collection_id)

    assert _race(4, start, Conflict) == ["ok", "refused", "refused", "refused"]


def test_racing_publishes_of_one_version_publish_it_once(
    uow: UnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with uow() as db:
        version = make_collection(db, datasets=1, published=False)
        version_id, collection_id = version.id, version.collection_id
    moments = iter(datetime(2026, 5, day, tzinfo=UTC) for day in range(1, 10))

    def publish() -> None:
        with transaction(session_factory) as db:
            service.publish(db, collection_version_id=version_id, now=next(moments))

    assert _race(3, publish, ImmutableVersion) == ["ok", "refused", "refused"]
    with uow() as db:
        collection, published = service.resolve_collection(db, collection_id)
        assert published.id == version_id and collection.originally_published_at == published.published_at


def test_racing_retries_of_one_job_leave_one_artifact_row(
    uow: UnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with uow() as db:
        version = make_collection(db, datasets=1, published=False, artifacts=())
        dataset_version_id = version.dataset_versions[0].id
    sizes = iter(range(100))

    def record() -> None:
        with transaction(session_factory) as db:
            service.record_artifact(
                db, dataset_version_id=dataset_version_id, type="h5ad", status="CONVERTED", size=next(sizes)
            )

    assert _race(4, record, Conflict) == ["ok"] * 4
    with uow() as db:
        rows = db.scalars(select(Artifact).where(Artifact.dataset_version_id == dataset_version_id)).all()
        assert [row.type for row in rows] == ["h5ad"]
