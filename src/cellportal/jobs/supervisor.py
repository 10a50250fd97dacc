"""Keep a Celery worker child alive, tell the catalog it is, and run the reaper beside it.

`cellportal serve` and `cellportal worker` both use this. The worker is a child process (never a thread of
the web server: Celery's prefork pool forks, and a forked multi-threaded server is a minefield). If it
dies it is started again, with a growing delay when it keeps dying. While it lives, a presence row says
so, which lets `cellportal ingest` decide whether to hand work to it or run the pipeline itself.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from cellportal.catalog.db import transaction
from cellportal.config import Settings
from cellportal.jobs import repository
from cellportal.jobs._process import die_with_parent
from cellportal.jobs.celery_app import make_celery
from cellportal.jobs.outbox import celery_sender
from cellportal.jobs.reaper import ReaperThread, policy_from
from cellportal.runtime import Runtime

log = logging.getLogger(__name__)


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as ``CELLPORTAL_*`` variables, so a child process reads exactly the same ones."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        env[f"CELLPORTAL_{name.upper()}"] = str(value.resolve() if isinstance(value, Path) else value)
    return env


class WorkerSupervisor:
    def __init__(
        self,
        runtime: Runtime,
        *,
        concurrency: int = 1,
        node: str | None = None,
        reaper: bool = True,
        log_file: Path | None = None,
        shutdown_timeout: float = 20.0,
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.concurrency = concurrency
        self.node = node or f"cellportal-{os.getpid()}@{socket.gethostname()}"
        self.log_file = log_file
        self.shutdown_timeout = shutdown_timeout
        self.child: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self._reaper: ReaperThread | None = None
        if reaper:
            sender = celery_sender(make_celery(self.settings))
            interval = max(1.0, min(self.settings.job_stale_seconds / 2, 30.0))
            self._reaper = ReaperThread(runtime.sessions, policy_from(self.settings), sender, interval)

    def start(self) -> WorkerSupervisor:
        self._monitor.start()
        if self._reaper:
            self._reaper.start()
        return self

    def _spawn(self) -> None:
        command = [
            sys.executable,
            "-m",
            "cellportal.jobs.celery_worker",
            "--concurrency",
            str(self.concurrency),
            "--name",
            self.node,
        ]
        output = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115 (kept for the child's life)
        self.child = subprocess.Popen(
            command, env=settings_env(self.settings), stdout=output, stderr=output, preexec_fn=die_with_parent
        )
        log.info("worker %s started (pid %d)", self.node, self.child.pid)

    def _watch(self) -> None:
        # Every child is started, and stopped, from this thread: PR_SET_PDEATHSIG fires when the *thread*
        # that forked a child ends, so this thread lives exactly as long as the children it starts.
        self._spawn()
        try:
            self._keep_alive()
        finally:
            self._terminate_child()

    def _keep_alive(self) -> None:
        delay = 1.0
        last_presence = 0.0
        started = time.monotonic()
        while not self._stop.wait(0.5):
            assert self.child is not None
            if self.child.poll() is not None:
                code = self.child.returncode
                log.warning("worker %s exited with %s; starting it again in %.0f s", self.node, code, delay)
                if self._stop.wait(delay):
                    return
                # A worker that ran a while before dying gets a short delay again; one dying at once, longer.
                delay = 1.0 if time.monotonic() - started > 60 else min(delay * 2, 30.0)
                self.restarts += 1
                started = time.monotonic()
                self._spawn()
                continue
            if time.monotonic() - last_presence >= self.settings.job_heartbeat_seconds:
                try:
                    with transaction(self.runtime.sessions) as session:
                        repository.touch_worker(session, self.node)
                    last_presence = time.monotonic()
                except Exception:
                    log.warning("worker presence not written", exc_info=True)

    def _terminate_child(self) -> None:
        if self.child is None or self.child.poll() is not None:
            return
        self.child.send_signal(signal.SIGTERM)  # Celery's warm shutdown: the running job may finish
        try:
            self.child.wait(timeout=self.shutdown_timeout)
        except subprocess.TimeoutExpired:
            self.child.kill()  # its job goes silent and the reaper re-queues it
            self.child.wait()

    def stop(self) -> None:
        self._stop.set()
        if self._reaper:
            self._reaper.stop()
        self._monitor.join(timeout=self.shutdown_timeout + 10)
        try:
            with transaction(self.runtime.sessions) as session:
                repository.worker_gone(session, self.node)
        except Exception:
            log.warning("worker presence not cleared", exc_info=True)
