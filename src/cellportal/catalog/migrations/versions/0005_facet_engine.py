"""facet engine: the browse generation, moved by the database on every change a listing may show

``browse_generation`` holds one row whose token the database itself replaces (triggers) in the transaction
of every INSERT, UPDATE or DELETE on the tables that decide what a listing shows: the browse index
(datasets, terms, words) and the catalog rows it is joined to (collections, their versions and dataset
lists, datasets). The in-memory facet engine (cellportal.browse.engine) reads the token on every request and
reloads when it moved, so a publish, a withdrawal or a removed dataset is seen by the first request after
its commit, whichever code (service, bulk load, repair script) made it. A token, not a counter: a rolled
back change or a database emptied and refilled can never bring back a token a snapshot was built at.

``ix_browse_terms_direct`` lets that reload read the annotated terms (``direct``) from an index alone.

Careful: on SQLite a later batch migration that recreates one of these tables drops its triggers;
tests/integration/catalog/test_migrations.py checks that they exist at head.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = [
    "browse_datasets",
    "browse_terms",
    "browse_dataset_tokens",
    "browse_collection_tokens",
    "collections",
    "collection_versions",
    "collection_version_datasets",
    "datasets",
]
EVENTS = ("insert", "update", "delete")
# An upsert: the row may be gone (a table emptied by hand), and the next change brings it back.
SQLITE_TOUCH = (
    "INSERT INTO browse_generation (id, token) VALUES (1, lower(hex(randomblob(16)))) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
# Once per transaction (a transaction-local setting remembers it; a rolled-back savepoint forgets it with its
# writes): the token the transaction commits covers all its writes, and a bulk load of a million rows does
# not pile up a million versions of the one row, which would make every upsert slower than the last.
POSTGRES_TOUCH = """
CREATE FUNCTION browse_generation_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('cellportal.browse_generation_moved', true) IS DISTINCT FROM 'yes' THEN
        INSERT INTO browse_generation (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))
        ON CONFLICT (id) DO UPDATE SET token = excluded.token;
        PERFORM set_config('cellportal.browse_generation_moved', 'yes', true);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    generation = op.create_table(
        "browse_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_browse_generation")),
    )
    op.bulk_insert(generation, [{"id": 1, "token": uuid.uuid4().hex}])
    op.create_index(
        "ix_browse_terms_direct",
        "browse_terms",
        ["facet", "term", "dataset_version_id"],
        sqlite_where=sa.text("direct = 1"),
        postgresql_where=sa.text("direct"),
    )
    if op.get_bind().dialect.name == "sqlite":  # row triggers only
        for table in TABLES:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_browse_generation_{event} AFTER {event.upper()} ON {table} "
                    f"BEGIN {SQLITE_TOUCH}; END"
                )
        return
    op.execute(POSTGRES_TOUCH)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_browse_generation AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION browse_generation_touch()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_browse_generation_{event}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_browse_generation ON {table}")
        op.execute("DROP FUNCTION IF EXISTS browse_generation_touch()")
    op.drop_index("ix_browse_terms_direct", table_name="browse_terms")
    op.drop_table("browse_generation")
