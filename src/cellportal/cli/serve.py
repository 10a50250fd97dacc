"""`cellportal serve`: the web app, a supervised worker child process and the reaper, on one machine."""

from __future__ import annotations

import typer

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime
from cellportal.runtime import Runtime


def serve_runtime(runtime: Runtime, host: str, port: int, *, worker: bool = True, concurrency: int = 1) -> None:
    """Serve until interrupted; the worker (restarted if it dies) and the reaper run beside uvicorn."""
    import uvicorn

    from cellportal.app import create_app
    from cellportal.jobs.supervisor import WorkerSupervisor

    supervisor = WorkerSupervisor(runtime, concurrency=concurrency).start() if worker else None
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level="info")
    finally:
        if supervisor is not None:
            supervisor.stop()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Start a worker child process (one machine)."),
    concurrency: int = typer.Option(1, "--concurrency", "-c", help="Jobs the worker runs at once."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at INFO."),
) -> None:
    """Run the portal: migrations first, then the web app, the worker and the reaper."""
    configure_logging(verbose)
    runtime = open_runtime()
    try:
        serve_runtime(runtime, host, port, worker=worker, concurrency=concurrency)
    finally:
        runtime.close()
