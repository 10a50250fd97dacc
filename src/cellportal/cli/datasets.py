"""`cellportal datasets`: list dataset versions with their processing status and artifacts."""

from __future__ import annotations

import typer

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime
from cellportal.cli._tables import show


@app.command()
def datasets(
    collection: str | None = typer.Option(None, "--collection", help="Only this collection (canonical or version id)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List datasets: published ones, or every dataset of one collection version (private ones included)."""
    from cellportal.catalog import service as catalog
    from cellportal.catalog.db import transaction
    from cellportal.catalog.errors import CatalogError
    from cellportal.catalog.statuses import api_status

    configure_logging()
    runtime = open_runtime()
    try:
        with transaction(runtime.sessions) as session:
            if collection:
                try:
                    _, collection_version = catalog.resolve_collection(session, collection)
                except CatalogError as error:
                    typer.echo(f"error: {error}", err=True)
                    raise typer.Exit(2) from error
                versions = collection_version.dataset_versions
            else:
                versions = list(catalog.published_datasets(session))
            rows = [
                {
                    "dataset_id": v.dataset_id,
                    "dataset_version_id": v.id,
                    "title": v.title or v.original_filename,
                    "processing_status": api_status(v.processing_status, v.validation_status),
                    "cell_count": (v.dataset_metadata or {}).get("cell_count"),
                    "artifacts": ",".join(f"{a.type}:{a.status}" for a in v.artifacts),
                }
                for v in versions
            ]
        columns = ["dataset_id", "title", "processing_status", "cell_count", "artifacts"]
        show(rows, columns, title="Datasets", as_json=as_json)
    finally:
        runtime.close()
