"""`cellportal validate FILE.h5ad`: check a dataset against schema 7.1.0 (and optionally label it).

Exit codes: 0 valid, 1 invalid, 2 the file cannot be read at all.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cellportal.cli import app


@app.command("validate")
def validate_command(
    path: Path = typer.Argument(..., help="The .h5ad file to validate."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    add_labels: Path | None = typer.Option(
        None, "--add-labels", help="When the file is valid, write a labelled copy to this path."
    ),
    ignore_labels: bool = typer.Option(
        False, "--ignore-labels", help="Do not report label columns as reserved (for already labelled files)."
    ),
) -> None:
    """Validate an h5ad file against the CELLxGENE schema 7.1.0; report every error, then every warning."""
    from cellportal.cli._validate_run import run_validate

    raise typer.Exit(run_validate(path, as_json, add_labels, ignore_labels))
