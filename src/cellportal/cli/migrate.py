"""`cellportal migrate`: bring the catalog database to the newest schema (or check that it is there)."""

from __future__ import annotations

import typer

from cellportal.cli import app


@app.command()
def migrate(
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL; default: CELLPORTAL_DATABASE_URL or the SQLite file in data_dir."
    ),
    revision: str = typer.Option("head", "--revision", help="Target revision (default: the newest)."),
    check: bool = typer.Option(False, "--check", help="Change nothing; exit 1 unless the database is up to date."),
) -> None:
    """Create or upgrade the catalog's tables. Safe to run again; processes that start together take turns."""
    from cellportal.catalog import migrate as migrations
    from cellportal.config import load_settings

    url = database_url or load_settings().resolved_database_url
    if check:
        current, head = migrations.current_revision(url), migrations.head_revision()
        if current != head:
            typer.echo(
                f"the catalog is at revision {current or 'none'}; the newest is {head}. Run `cellportal migrate`."
            )
            raise typer.Exit(1)
        typer.echo(f"the catalog is up to date (revision {head})")
        return
    migrations.upgrade(url, revision)
    typer.echo(f"the catalog is at revision {migrations.current_revision(url)}")
