"""Published rows are immutable in the database itself

The service refuses changes to published versions and a flush guard refuses them for ORM writes; these
triggers refuse them for everything else too (bulk updates, raw SQL, a future script): no UPDATE or DELETE
of a published collection or dataset version, and no INSERT, UPDATE or DELETE of the artifacts of a
published dataset version or of the dataset list of a published collection version.

Careful: on SQLite a later batch migration that recreates one of these tables drops its triggers;
tests/integration/catalog/test_migrations.py checks that they exist at head.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "published versions never change (cellportal catalog)"

# (table, parent table, foreign key column): children of a published parent are frozen with it.
CHILDREN = [
    ("artifacts", "dataset_versions", "dataset_version_id"),
    ("collection_version_datasets", "collection_versions", "collection_version_id"),
]
VERSIONS = ["collection_versions", "dataset_versions"]


def _sqlite_upgrade() -> None:
    for table in VERSIONS:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_published_no_{event.lower()} BEFORE {event} ON {table} "
                f"WHEN OLD.published_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    for table, parent, column in CHILDREN:
        for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            name = f"{table}_published_no_{event.lower()}_{row.lower()}"
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {parent} WHERE id = {row}.{column} AND published_at IS NOT NULL) "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def _sqlite_downgrade() -> None:
    for table in VERSIONS:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_published_no_{event}")
    for table, _parent, _column in CHILDREN:
        for event, row in (("insert", "new"), ("update", "old"), ("update", "new"), ("delete", "old")):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_published_no_{event}_{row}")


def _postgresql_upgrade() -> None:
    # 23001 restrict_violation: drivers report it as an integrity error, like SQLite's RAISE(ABORT).
    op.execute(
        f"""
        CREATE FUNCTION cellportal_refuse_published_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}: % on %', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    for table in VERSIONS:
        op.execute(
            f"CREATE TRIGGER {table}_published_immutable BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW "
            f"WHEN (OLD.published_at IS NOT NULL) EXECUTE FUNCTION cellportal_refuse_published_version_change()"
        )
    for table, parent, column in CHILDREN:
        function = f"cellportal_refuse_published_{table}_change"
        op.execute(
            f"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (TG_OP <> 'INSERT' AND EXISTS (
                        SELECT 1 FROM {parent} WHERE id = OLD.{column} AND published_at IS NOT NULL))
                   OR (TG_OP <> 'DELETE' AND EXISTS (
                        SELECT 1 FROM {parent} WHERE id = NEW.{column} AND published_at IS NOT NULL)) THEN
                    RAISE EXCEPTION '{MESSAGE}: % on %', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
                END IF;
                IF TG_OP = 'DELETE' THEN
                    RETURN OLD;
                END IF;
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_published_immutable BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def _postgresql_downgrade() -> None:
    for table in VERSIONS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_published_immutable ON {table}")
    for table, _parent, _column in CHILDREN:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_published_immutable ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS cellportal_refuse_published_{table}_change()")
    op.execute("DROP FUNCTION IF EXISTS cellportal_refuse_published_version_change()")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgresql_upgrade()
    else:
        raise NotImplementedError(f"the catalog supports SQLite and PostgreSQL, not {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_downgrade()
    elif dialect == "postgresql":
        _postgresql_downgrade()
