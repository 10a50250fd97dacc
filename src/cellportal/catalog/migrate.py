"""Run the catalog's Alembic migrations from code: ``upgrade(engine_or_url)``; no alembic.ini on the user's side.

The migration scripts ship inside the package (``catalog/migrations``). The whole upgrade runs in one
transaction (PostgreSQL has transactional DDL; on SQLite ``BEGIN IMMEDIATE`` holds the write lock), and on
PostgreSQL an advisory lock makes a web process and a worker that start together take turns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from cellportal.catalog.db import make_engine
from cellportal.catalog.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 0x63656C6C  # "cell": any constant shared by every cellportal process


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _connection(engine_or_url: Engine | str) -> Iterator[Connection]:
    """One connection in one transaction, serialised against other migrating processes."""
    owned = isinstance(engine_or_url, str)
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            yield connection
    finally:
        if owned:
            engine.dispose()


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Bring the catalog's tables to ``revision`` (default: the newest)."""
    with _connection(engine_or_url) as connection:
        command.upgrade(_config(connection), revision)


def downgrade(engine_or_url: Engine | str, revision: str) -> None:
    with _connection(engine_or_url) as connection:
        command.downgrade(_config(connection), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine_or_url: Engine | str) -> str | None:
    with _connection(engine_or_url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def differences(engine_or_url: Engine | str) -> list[Any]:
    """What autogenerate would write: models vs the migrated database (empty when they agree)."""
    with _connection(engine_or_url) as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
        )
        return list(compare_metadata(context, Base.metadata))


def autogenerate(engine_or_url: Engine | str, message: str) -> None:
    """For developers: write a new migration from the model changes (review it before committing)."""
    # Numbered ids (0002, 0003, ...) keep the history readable in the folder listing.
    numbers = [int(p.name[:4]) for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    with _connection(engine_or_url) as connection:
        config = _config(connection)
        config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
        command.revision(config, message=message, autogenerate=True, rev_id=f"{max(numbers, default=0) + 1:04d}")


def new_migration(message: str) -> None:
    """For developers (``make migration MESSAGE=...``): diff models.py against a scratch database at head."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'scratch.sqlite'}"
        upgrade(url)
        autogenerate(url, message)
