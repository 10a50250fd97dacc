"""Run the catalog's Alembic migrations from code: ``upgrade(engine_or_url)``; no alembic.ini on the user's side.

The migration scripts ship inside the package (``catalog/migrations``). The whole upgrade runs in one
transaction (PostgreSQL has transactional DDL; on SQLite ``BEGIN IMMEDIATE`` holds the write lock), and on
PostgreSQL an advisory lock makes a web process and a worker that start together take turns.

An upgrade that creates the browse index (0004) also fills it from what the catalog already holds, in the
same transaction, so an upgraded catalog lists its datasets at once.
"""

from __future__ import annotations

import logging
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
from sqlalchemy.orm import Session

from cellportal.browse import index as browse_index
from cellportal.catalog.db import make_engine
from cellportal.catalog.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 0x63656C6C  # "cell": any constant shared by every cellportal process
_BROWSE_INDEX_REVISION = "0004"  # creates the (empty) browse index tables

log = logging.getLogger(__name__)


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


def _applied(connection: Connection) -> set[str]:
    """The revisions the database is at or past."""
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return set()
    return {script.revision for script in ScriptDirectory.from_config(_config()).iterate_revisions(current, "base")}


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Bring the catalog's tables to ``revision`` (default: the newest); fill the browse index if this made it."""
    with _connection(engine_or_url) as connection:
        before = _applied(connection)
        command.upgrade(_config(connection), revision)
        if not before or _BROWSE_INDEX_REVISION in before or _BROWSE_INDEX_REVISION not in _applied(connection):
            return  # a new catalog (nothing to index), or the index existed already, or it was not reached
        if MigrationContext.configure(connection).get_current_revision() != head_revision():
            # The index code reads the tables through today's models, which match only the newest revision.
            log.warning("browse index left empty: upgrade to head, then run cellportal.browse.index.rebuild")
            return
        with Session(bind=connection) as session:
            collections, datasets = browse_index.rebuild(session)
            session.flush()
        log.info("browse index filled: %d collection versions, %d dataset versions", collections, datasets)


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
