"""Job rows against a real catalog: one claim wins, the outbox sends only after commit, the reaper
re-queues silent jobs and fails those out of attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.catalog.models import Job, utcnow
from cellportal.catalog.statuses import JobState, ProcessingStatus
from cellportal.jobs import repository
from cellportal.jobs.outbox import pending, send_after_commit
from cellportal.jobs.reaper import policy_from, reap_once
from cellportal.jobs.service import queue_processing
from cellportal.runtime import Runtime
from tests.integration.jobs.helpers import job_row, version_row


@pytest.fixture
def catalog_url(db_url: str) -> str:
    """On SQLite and on PostgreSQL (the claim and the reaper's guards are plain SQL on both)."""
    return db_url


@pytest.fixture
def dataset_version_id(runtime: Runtime, collection_version_id: str) -> str:
    with transaction(runtime.sessions) as session:
        return catalog.create_dataset(session, collection_version_id=collection_version_id).id


def new_job(runtime: Runtime, dataset_version_id: str) -> str:
    with transaction(runtime.sessions) as session:
        return queue_processing(session, dataset_version_id=dataset_version_id, sender=None).id


def test_only_one_of_two_claims_wins(runtime: Runtime, dataset_version_id: str) -> None:
    job_id = new_job(runtime, dataset_version_id)
    stale = runtime.settings.job_stale_seconds
    with transaction(runtime.sessions) as session:
        assert repository.claim(session, job_id, worker="a", stale_seconds=stale)
    with transaction(runtime.sessions) as session:
        assert not repository.claim(session, job_id, worker="b", stale_seconds=stale)
        assert not repository.heartbeat(session, job_id, worker="b")
        assert repository.heartbeat(session, job_id, worker="a")
    assert job_row(runtime, job_id).worker == "a"


def test_a_silent_job_can_be_taken_over_and_fences_its_old_owner(runtime: Runtime, dataset_version_id: str) -> None:
    job_id = new_job(runtime, dataset_version_id)
    stale = runtime.settings.job_stale_seconds
    with transaction(runtime.sessions) as session:
        assert repository.claim(session, job_id, worker="a", stale_seconds=stale)
    later = utcnow() + timedelta(seconds=stale + 1)
    with transaction(runtime.sessions) as session:
        assert repository.claim(session, job_id, worker="b", stale_seconds=stale, now=later)
    with transaction(runtime.sessions) as session:
        assert not repository.set_progress(session, job_id, worker="a", step="convert", progress=0.5)
        assert not repository.finish(session, job_id, worker="a")
        assert repository.finish(session, job_id, worker="b")
    job = job_row(runtime, job_id)
    assert (job.state, job.attempts, job.worker) == (JobState.SUCCEEDED, 2, "b")


def test_messages_leave_only_after_commit(runtime: Runtime, dataset_version_id: str) -> None:
    sent: list[str] = []
    with pytest.raises(RuntimeError), transaction(runtime.sessions) as session:
        job = queue_processing(session, dataset_version_id=dataset_version_id, sender=sent.append)
        assert pending(session) == [job.id]
        raise RuntimeError("the request failed after creating the job")
    assert sent == []  # rolled back: no message, and no row
    with transaction(runtime.sessions) as session:
        assert session.query(Job).count() == 0

    with transaction(runtime.sessions) as session:
        job = queue_processing(session, dataset_version_id=dataset_version_id, sender=sent.append)
        job_id = job.id
        session.flush()
        assert sent == []  # not while the transaction is open
    assert sent == [job_id]


def test_a_failed_send_leaves_the_job_for_the_reaper(runtime: Runtime, dataset_version_id: str) -> None:
    def broken(_job_id: str) -> None:
        raise ConnectionError("broker down")

    with transaction(runtime.sessions) as session:
        job = queue_processing(session, dataset_version_id=dataset_version_id, sender=None)
        send_after_commit(session, job.id, broken)
        job_id = job.id
    assert job_row(runtime, job_id).state == JobState.QUEUED  # committed despite the broker
    sent: list[str] = []
    policy = policy_from(runtime.settings)
    report = reap_once(
        runtime.sessions, policy, sent.append, now=utcnow() + timedelta(seconds=policy.resend_seconds + 1)
    )
    assert report.resent == [job_id] and sent == [job_id]


def test_reaper_requeues_a_silent_job_then_fails_it_when_out_of_attempts(
    runtime: Runtime, dataset_version_id: str
) -> None:
    settings = runtime.settings
    policy = policy_from(settings)
    job_id = new_job(runtime, dataset_version_id)
    sent: list[str] = []
    for attempt in range(1, settings.job_max_attempts + 1):
        with transaction(runtime.sessions) as session:
            assert repository.claim(session, job_id, worker=f"w{attempt}", stale_seconds=settings.job_stale_seconds)
        # Nothing happens while the heartbeat is fresh.
        assert reap_once(runtime.sessions, policy, sent.append).requeued == []
        report = reap_once(
            runtime.sessions, policy, sent.append, now=utcnow() + timedelta(seconds=policy.stale_seconds + 1)
        )
        if attempt < settings.job_max_attempts:
            assert report.requeued == [job_id]
            assert job_row(runtime, job_id).state == JobState.QUEUED
        else:
            assert report.failed == [job_id] and report.requeued == []
    assert sent == [job_id] * (settings.job_max_attempts - 1)
    job = job_row(runtime, job_id)
    assert job.state == JobState.FAILED and "stopped responding" in (job.error or "")
    version = version_row(runtime, dataset_version_id)
    assert version.processing_status == ProcessingStatus.FAILURE
    assert "stopped responding" in (version.failure_reason or "")


def test_worker_presence(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        repository.touch_worker(session, "node-a")
        repository.touch_worker(session, "node-a")  # the same row again
        assert repository.live_workers(session, stale_seconds=10) == ["node-a"]
        assert repository.live_workers(session, stale_seconds=10, now=utcnow() + timedelta(seconds=11)) == []
        repository.worker_gone(session, "node-a")
        assert repository.live_workers(session, stale_seconds=10) == []
    # Presence rows are not jobs: the reaper leaves them alone.
    with transaction(runtime.sessions) as session:
        assert repository.unfinished_jobs(session) == []


def test_a_job_out_of_attempts_is_not_taken_over(runtime: Runtime, dataset_version_id: str) -> None:
    settings = runtime.settings
    job_id = new_job(runtime, dataset_version_id)
    with transaction(runtime.sessions) as session:
        session.get(Job, job_id).attempts = settings.job_max_attempts - 1  # type: ignore[union-attr]
    with transaction(runtime.sessions) as session:
        assert repository.claim(
            session,
            job_id,
            worker="last",
            stale_seconds=settings.job_stale_seconds,
            max_attempts=settings.job_max_attempts,
        )
    later = utcnow() + timedelta(seconds=settings.job_stale_seconds + 1)
    with transaction(runtime.sessions) as session:  # a redelivered message after the last attempt died
        assert not repository.claim(
            session,
            job_id,
            worker="late",
            stale_seconds=settings.job_stale_seconds,
            max_attempts=settings.job_max_attempts,
            now=later,
        )
