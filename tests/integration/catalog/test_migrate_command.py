"""`cellportal migrate`: creates the tables, says so, and `--check` tells whether a database is behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import cellportal.cli.migrate  # noqa: F401  (registers the command on the app)
from cellportal.catalog import migrate
from cellportal.cli import app


def test_migrate_command_on_a_new_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'catalog.sqlite'}"
    runner = CliRunner()
    behind = runner.invoke(app, ["migrate", "--database-url", url, "--check"])
    assert behind.exit_code == 1 and "Run `cellportal migrate`" in behind.output
    done = runner.invoke(app, ["migrate", "--database-url", url])
    assert done.exit_code == 0 and f"revision {migrate.head_revision()}" in done.output
    assert runner.invoke(app, ["migrate", "--database-url", url]).exit_code == 0  # again: nothing to do
    current = runner.invoke(app, ["migrate", "--database-url", url, "--check"])
    assert current.exit_code == 0 and "up to date" in current.output


def test_migrate_command_reads_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLPORTAL_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "catalog.sqlite").is_file()
    assert migrate.current_revision(f"sqlite:///{tmp_path / 'data' / 'catalog.sqlite'}") == migrate.head_revision()
