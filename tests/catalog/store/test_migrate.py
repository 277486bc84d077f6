from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from catalog.store.engine import make_engine
from catalog.store.migrate import current_revision, head_revision, upgrade
from catalog.store.store import Store


def test_migrations_build_exactly_the_declared_schema(database: str) -> None:
    engine = make_engine(database)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    engine.dispose()


def test_upgrading_twice_is_harmless_and_keeps_data(database: str) -> None:
    store = Store(database)
    store.ensure_source("s", "synthetic")
    Store(database, engine=store.engine)  # a second process starting on the same database
    assert store.source_id("s") == 1
    assert "run" in inspect(store.engine).get_table_names()
    store.close()


def test_store_without_migration_leaves_database_alone(database: str) -> None:
    store = Store(database, migrate=False)
    assert current_revision(store.engine) is None
    store.close()
