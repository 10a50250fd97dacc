"""`cellportal demo`: build the demo collection if it is absent; `--serve` then serves the portal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import typer

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime


@app.command()
def demo(
    serve: bool = typer.Option(False, "--serve", help="Serve the portal on 127.0.0.1:8000 afterwards."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on with --serve."),
    port: int = typer.Option(8000, "--port", help="Port to listen on with --serve."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at INFO."),
) -> None:
    """Generate, process and publish a small demo collection (about a minute), then optionally serve it."""
    from cellportal.cli._progress import ProcessingBars, stderr
    from cellportal.demo.collection import build_demo
    from cellportal.jobs.submit import DatasetState, Submitted

    @contextmanager
    def watch(submitted: Sequence[Submitted]) -> Iterator[Callable[[list[DatasetState]], None]]:
        with ProcessingBars(submitted) as bars:
            yield bars.update

    configure_logging(verbose)
    runtime = open_runtime()
    try:
        started = time.monotonic()
        result = build_demo(runtime, say=lambda message: stderr.print(f"[bold]demo:[/] {message}"), watch=watch)
        if result.built:
            stderr.print(f"[bold]demo:[/] built in {time.monotonic() - started:.0f} s")
        url = f"{runtime.settings.public_url.rstrip('/')}/collections/{result.collection_id}"
        stderr.print(f"[bold]demo:[/] collection {url}")
        if serve:
            from cellportal.cli.serve import serve_runtime

            stderr.print(f"[bold]demo:[/] serving on http://{host}:{port}")
            serve_runtime(runtime, host, port)
    finally:
        runtime.close()
