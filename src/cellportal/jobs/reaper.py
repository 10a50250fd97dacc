"""Re-queue jobs whose worker died, fail those out of attempts, re-send QUEUED jobs whose message was lost.

Needed on every broker: the SQLite transport loses a message when its whole worker is killed, Redis only
redelivers after the visibility timeout. The job rows say what is alive (heartbeat_at), so recovery is
the same everywhere. Several reapers (a `serve` and some `worker`s) may run at once: each change is a
guarded UPDATE, and a duplicate message is dropped by the claim.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from cellportal.catalog.db import transaction
from cellportal.catalog.models import utcnow
from cellportal.config import Settings
from cellportal.jobs import repository
from cellportal.jobs.outbox import Sender
from cellportal.jobs.recorder import DatasetRecorder
from cellportal.jobs.rules import ReapAction, ReaperPolicy, reap_decision

log = logging.getLogger(__name__)


def policy_from(settings: Settings) -> ReaperPolicy:
    return ReaperPolicy(
        stale_seconds=settings.job_stale_seconds,
        max_attempts=settings.job_max_attempts,
        resend_seconds=max(10 * settings.job_stale_seconds, 60.0),
    )


@dataclass
class ReapReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)


def reap_once(
    sessions: sessionmaker[Session], policy: ReaperPolicy, sender: Sender, now: datetime | None = None
) -> ReapReport:
    now = now or utcnow()
    report = ReapReport()
    with transaction(sessions) as session:
        jobs = [
            (j.id, j.state, j.heartbeat_at, j.attempts, j.dataset_version_id)
            for j in repository.unfinished_jobs(session)
        ]
    for job_id, state, heartbeat_at, attempts, dataset_version_id in jobs:
        action = reap_decision(state, heartbeat_at, attempts, now, policy)
        if action is ReapAction.NONE:
            continue
        stale_before = now - timedelta(seconds=policy.stale_seconds)
        with transaction(sessions) as session:
            if action is ReapAction.REQUEUE:
                if repository.requeue(session, job_id, stale_before=stale_before):
                    report.requeued.append(job_id)
            elif action is ReapAction.FAIL:
                reason = f"the worker running this job stopped responding {attempts} times (killed or out of memory)"
                if repository.fail_silent(session, job_id, stale_before=stale_before, error=reason):
                    report.failed.append(job_id)
                    if dataset_version_id:
                        DatasetRecorder(sessions, dataset_version_id).pipeline_failure_in(session, reason)
            elif action is ReapAction.RESEND and repository.mark_resent(session, job_id):
                report.resent.append(job_id)
    for job_id in report.requeued + report.resent:
        try:
            sender(job_id)
        except Exception:  # the row stays QUEUED; the next pass sends it again
            log.exception("could not send job %s", job_id)
    if report.requeued or report.failed or report.resent:
        log.warning("reaper: requeued %s, failed %s, re-sent %s", report.requeued, report.failed, report.resent)
    return report


class ReaperThread:
    """Runs :func:`reap_once` every ``interval`` seconds until stopped."""

    def __init__(self, sessions: sessionmaker[Session], policy: ReaperPolicy, sender: Sender, interval: float):
        self._sessions, self._policy, self._sender, self._interval = sessions, policy, sender, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cellportal-reaper", daemon=True)

    def start(self) -> ReaperThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                reap_once(self._sessions, self._policy, self._sender)
            except Exception:
                log.exception("reaper pass failed; trying again")
