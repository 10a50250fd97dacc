"""Alembic environment of the catalog, driven by ``cellportal.catalog.migrate`` (no alembic.ini needed).

The caller passes an open connection in ``config.attributes["connection"]``. SQLite cannot ALTER most
things, so migrations render and run as "batch" operations there (copy the table, swap it in).
"""

from __future__ import annotations

from typing import Any

from alembic import context

from cellportal.catalog.models import Base, UTCDateTime

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our UTCDateTime as the plain column type it stores, so migrations do not import the models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the catalog migrations through cellportal.catalog.migrate (it passes a connection)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) mode is not supported; run `cellportal migrate` against the database")
run_migrations_online()
