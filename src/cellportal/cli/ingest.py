"""`cellportal ingest`: create a private collection from files, process them, optionally publish.

Works with or without a running server: with a live worker the jobs go to the queue, otherwise the
pipeline runs in this process. Exit status 1 when any dataset failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime

INGEST_OWNER = "cli"  # collections made from the command line; there are no accounts in the CLI (yet)


@app.command()
def ingest(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The .h5ad files."),
    name: str = typer.Option(..., "--name", help="Collection name."),
    description: str = typer.Option(..., "--description", help="Collection description."),
    contact_name: str = typer.Option(..., "--contact-name", help="Contact person."),
    contact_email: str = typer.Option(..., "--contact-email", help="Contact e-mail."),
    doi: str | None = typer.Option(None, "--doi", help="DOI of the publication."),
    publish: bool = typer.Option(False, "--publish", help="Publish the collection when every dataset succeeded."),
    as_json: bool = typer.Option(False, "--json", help="Print the ids and outcomes as JSON on stdout."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at INFO."),
) -> None:
    """Upload FILE.h5ad... into a new private collection and wait for processing."""
    from cellportal.catalog import service as catalog
    from cellportal.catalog.db import transaction
    from cellportal.catalog.errors import CatalogError
    from cellportal.cli._progress import ProcessingBars, stderr, upload_bar
    from cellportal.jobs.submit import upload_dataset, wait_for, worker_is_alive

    configure_logging(verbose)
    runtime = open_runtime()
    try:
        try:
            with transaction(runtime.sessions) as session:
                version = catalog.create_collection(
                    session,
                    owner_id=INGEST_OWNER,
                    name=name,
                    description=description,
                    contact_name=contact_name,
                    contact_email=contact_email,
                    doi=doi,
                )
                collection_id, collection_version_id = version.collection_id, version.id
        except (CatalogError, ValueError) as error:
            stderr.print(f"[red]error:[/] {error}")
            raise typer.Exit(2) from error

        use_worker = worker_is_alive(runtime)
        stderr.print(
            f"collection {collection_id}: processing on "
            + ("the running worker" if use_worker else "this machine, in this process (no worker is running)")
        )
        submitted = []
        with upload_bar() as bar:
            for path in files:
                task = bar.add_task(path.name, total=path.stat().st_size)
                submitted.append(
                    upload_dataset(
                        runtime,
                        collection_version_id=collection_version_id,
                        path=path,
                        use_worker=use_worker,
                        on_progress=lambda done, _total, task=task: bar.update(task, completed=done),
                    )
                )
        with ProcessingBars(submitted) as bars:
            states = wait_for(runtime, submitted, on_update=bars.update)

        failed = [s for s in states if s.processing_status != "SUCCESS"]
        published = False
        if publish and not failed:
            try:
                with transaction(runtime.sessions) as session:
                    catalog.publish(session, collection_version_id=collection_version_id)
                published = True
            except CatalogError as error:
                stderr.print(f"[red]not published:[/] {error}")
                raise typer.Exit(1) from error
        elif publish:
            stderr.print("[yellow]not published:[/] some datasets failed")

        if as_json:
            result = {
                "collection_id": collection_id,
                "collection_version_id": collection_version_id,
                "datasets": [
                    {
                        "dataset_id": item.dataset_id,
                        "dataset_version_id": item.dataset_version_id,
                        "processing_status": state.processing_status,
                        "errors": state.errors,
                    }
                    for item, state in zip(submitted, states, strict=True)
                ],
            }
            typer.echo(json.dumps(result, indent=2))
        else:
            for item, state in zip(submitted, states, strict=True):
                stderr.print(f"{item.filename}: {state.processing_status}  dataset {item.dataset_id}")
                for message in state.errors:
                    stderr.print(f"  - {message}")
            stderr.print(
                f"collection {collection_id} "
                + ("published" if published else "(private)")
                + f": {runtime.settings.public_url}/collections/{collection_id}"
            )
        if failed:
            raise typer.Exit(1)
    finally:
        runtime.close()
