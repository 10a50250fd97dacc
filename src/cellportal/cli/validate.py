"""`cellportal validate FILE.h5ad`: check a dataset against schema 7.1.0 (and optionally label it).

Exit codes: 0 valid, 1 invalid, 2 the file cannot be read at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cellportal.cli import app

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


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
    from cellportal.schema.validator import validate

    report = validate(path, ignore_labels=ignore_labels)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.render_text())
    if not report.readable:
        raise typer.Exit(EXIT_UNREADABLE)
    if not report.valid:
        raise typer.Exit(EXIT_INVALID)
    if add_labels is not None:
        from cellportal.schema.labeller import write_labels

        write_labels(path, add_labels)
        if not as_json:
            typer.echo(f"labelled file written to {add_labels}")
    raise typer.Exit(EXIT_VALID)
