"""`cellportal reference fetch`: download the schema's gene reference tables into the cache."""

from __future__ import annotations

import typer

from cellportal.cli import app

reference_app = typer.Typer(no_args_is_help=True, help="Reference data used by the schema validator.")
app.add_typer(reference_app, name="reference")


@reference_app.command("fetch")
def fetch_command(
    force: bool = typer.Option(False, "--force", help="Download again even if the cache is filled."),
    skip_ontologies: bool = typer.Option(
        False, "--skip-ontologies", help="Only fetch the gene tables; index ontologies on first use instead."
    ),
) -> None:
    """Download the schema gene tables and index the ontologies, into CELLPORTAL_CACHE_DIR."""
    from cellportal.schema import reference_files

    try:
        folder = reference_files.fetch(force=force)
    except reference_files.ReferenceFetchError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    release = f"{reference_files.SCHEMA_PACKAGE}=={reference_files.SCHEMA_PACKAGE_VERSION}"
    typer.echo(f"gene tables of {release}: {folder}")
    if not skip_ontologies:
        from cellportal.schema import ontology

        # Indexing NCBITaxon takes about half a minute once; doing it here keeps it off the first validation.
        indexes = ontology.build_all_indexes()
        typer.echo(f"{len(indexes)} ontology indexes: {ontology.index_dir()}")
