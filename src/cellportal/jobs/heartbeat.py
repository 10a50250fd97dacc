"""While a job runs, prove it is alive; when it is no longer ours, say so.

The heartbeat is a thread writing ``heartbeat_at`` every few seconds in its own short transaction. If
the write matches no row, the reaper gave the job to another worker (we were silent too long): the
``lost`` event is set and the pipeline stops at its next progress report instead of racing the new owner.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from cellportal.catalog.db import transaction
from cellportal.jobs import repository
from cellportal.jobs.rules import overall_progress

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker owns this job now; stop without writing anything more."""


class Heartbeat:
    def __init__(self, sessions: sessionmaker[Session], job_id: str, worker: str, interval: float) -> None:
        self._sessions = sessions
        self._job_id = job_id
        self._worker = worker
        self._interval = interval
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with transaction(self._sessions) as session:
                    alive = repository.heartbeat(session, self._job_id, worker=self._worker)
            except Exception:  # a locked or unreachable database: try again next beat
                log.warning("heartbeat of job %s not written", self._job_id, exc_info=True)
                continue
            if not alive:
                log.warning("job %s is no longer ours; stopping", self._job_id)
                self.lost.set()
                return


class Progress:
    """Writes (step, overall fraction) to the job row; at most every `min_interval` within one step."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        job_id: str,
        worker: str,
        lost: threading.Event,
        min_interval: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._job_id = job_id
        self._worker = worker
        self._lost = lost
        self._min_interval = min_interval
        self._last_step: str | None = None
        self._last_write = 0.0

    def __call__(self, step: str, fraction: float) -> None:
        if self._lost.is_set():
            raise LeaseLost(self._job_id)
        now = time.monotonic()
        if step == self._last_step and fraction < 1.0 and now - self._last_write < self._min_interval:
            return
        with transaction(self._sessions) as session:
            ours = repository.set_progress(
                session, self._job_id, worker=self._worker, step=step, progress=overall_progress(step, fraction)
            )
        if not ours:
            self._lost.set()
            raise LeaseLost(self._job_id)
        self._last_step, self._last_write = step, now
