"""All SQL on job rows. Each function runs inside the caller's transaction and only flushes.

Ownership is fenced by the ``worker`` column: a worker that was presumed dead and replaced finds its
writes matching no row, and stops (see :class:`cellportal.jobs.heartbeat.Heartbeat`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from cellportal.catalog.models import Job, utcnow
from cellportal.catalog.statuses import JobState
from cellportal.jobs.rules import DATASET_PROCESS, WORKER_PRESENCE


def create_job(session: Session, *, dataset_version_id: str, kind: str = DATASET_PROCESS) -> Job:
    # heartbeat_at doubles as "last sent" while QUEUED, so the reaper can re-send a lost message.
    job = Job(kind=kind, dataset_version_id=dataset_version_id, state=JobState.QUEUED, heartbeat_at=utcnow())
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def latest_job_for(session: Session, dataset_version_id: str) -> Job | None:
    statement = (
        select(Job)
        .where(Job.dataset_version_id == dataset_version_id, Job.kind == DATASET_PROCESS)
        .order_by(Job.created_at.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def claim(
    session: Session,
    job_id: str,
    *,
    worker: str,
    stale_seconds: float,
    max_attempts: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Take the job if it is QUEUED, or RUNNING with a silent heartbeat (see rules.may_claim).

    One conditional UPDATE, so two workers handed the same job id cannot both win. A silent job that used
    its attempts is not taken over by a redelivered message; the reaper fails it instead.
    """
    now = now or utcnow()
    stale_before = now - timedelta(seconds=stale_seconds)
    silent = [Job.state == JobState.RUNNING, _silent_since(stale_before)]
    if max_attempts is not None:
        silent.append(Job.attempts < max_attempts)
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, or_(Job.state == JobState.QUEUED, and_(*silent)))
        .values(
            state=JobState.RUNNING,
            worker=worker,
            attempts=Job.attempts + 1,
            heartbeat_at=now,
            started_at=now,
            step=None,
            progress=0.0,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _owned(job_id: str, worker: str) -> tuple[object, ...]:
    return (Job.id == job_id, Job.worker == worker, Job.state == JobState.RUNNING)


def heartbeat(session: Session, job_id: str, *, worker: str) -> bool:
    """False when the job is no longer ours (finished elsewhere, or taken over after we went silent)."""
    result = session.execute(
        update(Job)
        .where(*_owned(job_id, worker))
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def set_progress(session: Session, job_id: str, *, worker: str, step: str, progress: float) -> bool:
    result = session.execute(
        update(Job)
        .where(*_owned(job_id, worker))
        .values(step=step, progress=progress, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish(session: Session, job_id: str, *, worker: str) -> bool:
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(*_owned(job_id, worker))
        .values(state=JobState.SUCCEEDED, progress=1.0, finished_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def fail(session: Session, job_id: str, *, worker: str | None, error: str) -> bool:
    """Mark failed; ``worker=None`` is the reaper failing a job whose worker is gone."""
    now = utcnow()
    conditions = [Job.id == job_id, Job.state == JobState.RUNNING]
    if worker is not None:
        conditions.append(Job.worker == worker)
    result = session.execute(
        update(Job)
        .where(*conditions)
        .values(state=JobState.FAILED, error=error, finished_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _silent_since(stale_before: datetime) -> object:
    return or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale_before)


def requeue(session: Session, job_id: str, *, stale_before: datetime) -> bool:
    """Put a silent RUNNING job back to QUEUED, unless it spoke since the reaper looked."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING, _silent_since(stale_before))
        .values(state=JobState.QUEUED, worker=None, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def fail_silent(session: Session, job_id: str, *, stale_before: datetime, error: str) -> bool:
    """The reaper's FAIL: only if the job is still RUNNING and still silent."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING, _silent_since(stale_before))
        .values(state=JobState.FAILED, error=error, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_resent(session: Session, job_id: str) -> bool:
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def unfinished_jobs(session: Session) -> Sequence[Job]:
    statement = select(Job).where(Job.kind != WORKER_PRESENCE, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
    return session.scalars(statement).all()


# Worker presence -------------------------------------------------------------------------------------


def presence_id(node: str) -> str:
    """Stable per worker node name, so a restarted worker reuses its row instead of adding one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cellportal-worker:{node}"))


def touch_worker(session: Session, node: str) -> None:
    now = utcnow()
    row = session.get(Job, presence_id(node))
    if row is None:
        session.add(
            Job(
                id=presence_id(node),
                kind=WORKER_PRESENCE,
                state=JobState.RUNNING,
                worker=node,
                started_at=now,
                heartbeat_at=now,
            )
        )
    else:
        row.heartbeat_at = now
        row.state = JobState.RUNNING
    session.flush()


def worker_gone(session: Session, node: str) -> None:
    row = session.get(Job, presence_id(node))
    if row is not None:
        row.state = JobState.SUCCEEDED
        row.finished_at = utcnow()
        session.flush()


def live_workers(session: Session, *, stale_seconds: float, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    statement = select(Job.worker).where(
        Job.kind == WORKER_PRESENCE,
        Job.state == JobState.RUNNING,
        Job.heartbeat_at >= now - timedelta(seconds=stale_seconds),
    )
    return [w for w in session.scalars(statement).all() if w]
