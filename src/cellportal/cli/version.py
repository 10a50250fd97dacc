"""`cellportal version`."""

from __future__ import annotations

import typer

from cellportal import __version__
from cellportal.cli import app


@app.command()
def version() -> None:
    """Print the cellportal version."""
    typer.echo(__version__)
