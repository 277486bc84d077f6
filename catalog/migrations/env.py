"""Alembic environment: the engine, or the connection to migrate on, comes from the caller (see
catalog.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

import catalog.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is not None:
        # The caller holds the migration lock on it and commits the transaction it opened.
        run_migrations(connection)
        return
    engine: Engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        run_migrations(connection)


run_migrations_online()
