"""Send job messages only after the transaction that created the job rows commits (STYLE habit 6).

Code that creates a job calls :func:`send_after_commit` with its session. The message is held on the
session and sent by an ``after_commit`` hook, or dropped on rollback: a worker never receives the id of a
row it cannot see, and a rolled-back request leaves no message behind. If sending fails after the commit,
the job row stays QUEUED and the reaper sends it again (see rules.ReapAction.RESEND).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Sender = Callable[[str], None]
_PENDING = "cellportal.jobs.pending"
_HOOKED = "cellportal.jobs.hooked"


def send_after_commit(session: Session, job_id: str, sender: Sender) -> None:
    session.info.setdefault(_PENDING, []).append((job_id, sender))
    if not session.info.get(_HOOKED):
        event.listen(session, "after_commit", _flush)
        event.listen(session, "after_rollback", _drop)
        session.info[_HOOKED] = True


def pending(session: Session) -> list[str]:
    return [job_id for job_id, _ in session.info.get(_PENDING, [])]


def _flush(session: Session) -> None:
    messages = session.info.pop(_PENDING, [])
    for job_id, sender in messages:
        try:
            sender(job_id)
        except Exception:  # the row is committed; the reaper re-sends it
            log.exception("could not send job %s; the reaper will send it again", job_id)


def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)


def celery_sender(app: object) -> Sender:
    from cellportal.jobs.celery_app import PROCESS_DATASET_TASK

    queue = app.conf.task_default_queue  # type: ignore[attr-defined]

    def send(job_id: str) -> None:
        app.send_task(PROCESS_DATASET_TASK, args=[job_id], queue=queue)  # type: ignore[attr-defined]

    return send
