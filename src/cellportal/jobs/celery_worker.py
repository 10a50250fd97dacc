"""The Celery worker process: ``python -m cellportal.jobs.celery_worker [--concurrency N] [--name NODE]``.

Started by :class:`cellportal.jobs.supervisor.WorkerSupervisor` (from `cellportal serve` or `cellportal
worker`), which passes the settings through ``CELLPORTAL_*`` environment variables.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket

from cellportal.config import load_settings
from cellportal.jobs import tasks
from cellportal.jobs.celery_app import make_celery


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cellportal-celery-worker")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--name", default=f"cellportal-{os.getpid()}@{socket.gethostname()}")
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.loglevel, format="%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s")

    settings = load_settings()
    app = make_celery(settings)
    tasks.register(app, settings)
    app.worker_main(
        [
            "worker",
            "--queues",
            settings.queue_name,
            "--concurrency",
            str(args.concurrency),
            "--hostname",
            args.name,
            "--loglevel",
            args.loglevel,
            "--pool",
            "prefork",
            # Presence and liveness are the job rows' business; these only add broker traffic.
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


if __name__ == "__main__":
    main()
