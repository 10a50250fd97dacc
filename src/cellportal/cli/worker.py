"""`cellportal worker`: a Celery worker for other machines, kept alive, with its own reaper."""

from __future__ import annotations

import signal
import threading

import typer

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime


@app.command()
def worker(
    concurrency: int = typer.Option(1, "--concurrency", "-c", help="Jobs run at once (each uses several cores)."),
    name: str | None = typer.Option(None, "--name", help="Worker node name; default cellportal-<pid>@<host>."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at INFO."),
) -> None:
    """Process datasets from the queue named by the settings (CELLPORTAL_BROKER_URL); same settings as serve."""
    from cellportal.jobs.supervisor import WorkerSupervisor

    configure_logging(verbose)
    runtime = open_runtime()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    supervisor = WorkerSupervisor(runtime, concurrency=concurrency, node=name).start()
    typer.echo(f"worker {supervisor.node} on {runtime.settings.resolved_broker_url.split('@')[-1]}", err=True)
    try:
        stop.wait()
    finally:
        supervisor.stop()
        runtime.close()
