"""`cellportal collections`: list collections (published, or every one with --all)."""

from __future__ import annotations

import typer

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime
from cellportal.cli._tables import show


@app.command()
def collections(
    include_private: bool = typer.Option(False, "--all", help="Also list private collections and open revisions."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List collections with their ids, versions and dataset counts."""
    from cellportal.catalog import service as catalog
    from cellportal.catalog.db import transaction

    configure_logging()
    runtime = open_runtime()
    try:
        with transaction(runtime.sessions) as session:
            versions = list(catalog.published_collections(session))
            if include_private:
                versions += list(catalog.unpublished_collections(session))
            rows = [
                {
                    "collection_id": v.collection_id,
                    "collection_version_id": v.id,
                    "name": v.name,
                    "state": "published" if v.published_at else "private/revision",
                    "published_at": v.published_at.isoformat() if v.published_at else None,
                    "datasets": len(v.dataset_links),
                    "doi": v.doi,
                }
                for v in versions
            ]
        show(rows, ["collection_id", "name", "state", "datasets", "published_at"], title="Collections", as_json=as_json)
    finally:
        runtime.close()
