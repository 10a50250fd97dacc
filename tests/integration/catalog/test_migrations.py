"""The migrations build exactly the tables models.py describes, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from cellportal.catalog import migrate
from cellportal.catalog.models import Base


def test_models_and_migrations_agree(engine: Engine) -> None:
    # The `alembic check` of CI: a model change without its migration fails here.
    assert migrate.differences(engine) == []


def test_database_is_at_the_newest_revision(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision() is not None


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    assert migrate.differences(engine) == []


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_migration_scripts_ship_inside_the_package() -> None:
    scripts = sorted(p.name for p in (migrate.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert {"0001_initial.py", "0002_published_rows_immutable.py"} <= set(scripts)
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file() and (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()


def _trigger_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {row[0] for row in rows}


def test_the_immutability_triggers_exist_at_head(engine: Engine) -> None:
    # A later SQLite batch migration that recreates one of these tables would drop its triggers silently.
    names = _trigger_names(engine)
    for table in ("collection_versions", "dataset_versions", "artifacts", "collection_version_datasets"):
        assert any(name.startswith(f"{table}_published") for name in names), table


def test_an_upgrade_that_creates_the_browse_index_fills_it_from_the_catalog(engine: Engine) -> None:
    from cellportal.auth.policy import Principal
    from cellportal.browse import queries
    from cellportal.browse.selection import Selection
    from cellportal.catalog.db import make_session_factory, transaction
    from tests.fixtures.builders import make_collection

    factory = make_session_factory(engine)
    with transaction(factory) as session:
        published = make_collection(session, name="A lung atlas", datasets=2)
        dataset_version_ids = {link.dataset_version_id for link in published.dataset_links}
    migrate.downgrade(engine, "0003")  # a catalog from before the index, holding published data
    migrate.upgrade(engine)
    with factory() as session:
        page = queries.dataset_page(session, Principal(user_id="a-reader"), Selection())
        listed = {row[0] for row in page.rows}
    assert listed == dataset_version_ids and len(listed) == 2
