"""`cellportal fsck`: prove every stored artifact still has the bytes the catalog recorded."""

from __future__ import annotations

import json

import typer

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime
from cellportal.storage import BlobStore


@app.command()
def fsck(as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON.")) -> None:
    """Re-hash every artifact blob against its sha256 and size; exit 1 and list each one that is wrong."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from cellportal.catalog.db import transaction
    from cellportal.catalog.models import Artifact

    configure_logging()
    runtime = open_runtime()
    console = Console(stderr=True)
    try:
        with transaction(runtime.sessions) as session:
            rows = [
                (a.dataset_version_id, a.type, a.sha256, a.size)
                for a in session.scalars(select(Artifact).where(Artifact.sha256.is_not(None)))
            ]
        problems = []
        checked: dict[str, str | None] = {}  # one blob may back several artifacts (same content)
        for dataset_version_id, artifact_type, sha256, size in rows:
            if sha256 not in checked:
                checked[sha256] = _check(runtime.blobs, sha256, size)
            if checked[sha256]:
                problems.append(
                    {
                        "dataset_version_id": dataset_version_id,
                        "type": artifact_type,
                        "sha256": sha256,
                        "problem": checked[sha256],
                    }
                )
        if as_json:
            typer.echo(json.dumps({"checked": len(rows), "problems": problems}, indent=2))
        elif problems:
            table = Table(title=f"{len(problems)} of {len(rows)} artifacts are damaged or missing")
            for column in ("dataset version", "type", "sha256", "problem"):
                table.add_column(column)
            for p in problems:
                table.add_row(p["dataset_version_id"], p["type"], p["sha256"][:16] + "…", p["problem"])
            console.print(table)
        else:
            console.print(f"{len(rows)} artifacts checked in {runtime.blobs.url}: all match their sha256")
        if problems:
            raise typer.Exit(1)
    finally:
        runtime.close()


def _check(blobs: BlobStore, sha256: str, size: int | None) -> str | None:
    if not blobs.exists(sha256):
        return "missing from the store"
    actual = blobs.size(sha256)
    if size is not None and actual != size:
        return f"size {actual} bytes, catalog says {size}"
    if not blobs.verify(sha256):
        return "content does not match its sha256"
    return None
