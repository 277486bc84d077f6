"""How the store sets up SQLite connections: what each connection may hold in memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from catalog.errors import ConfigError
from catalog.store.engine import (
    READ_CACHE_KIB,
    SQLITE_MIN,
    WRITE_CACHE_KIB,
    check_sqlite,
    write_cache,
)
from catalog.store.store import Store
from tests.catalog.store.estate import estate_batch


def test_only_a_connection_writing_a_batch_holds_the_big_page_cache(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    try:
        source = store.ensure_source("airflow-prod", "airflow")
        seen: list[int] = []

        # Read the size from inside the batch's transaction, as its statements run.
        @event.listens_for(store.engine, "after_cursor_execute")
        def _size(conn, cursor, statement, *_args):  # type: ignore[no-untyped-def]
            if statement.startswith("INSERT") and " task_run " in statement:
                seen.append(conn.exec_driver_sql("PRAGMA cache_size").scalar())

        store.write_batch(source, estate_batch())
        event.remove(store.engine, "after_cursor_execute", _size)
        assert seen
        assert set(seen) == {-WRITE_CACHE_KIB}
        # Handed back: a pooled connection that wrote is as small as one that only read.
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -READ_CACHE_KIB
    finally:
        store.close()


def test_the_write_cache_is_handed_back_on_the_same_connection(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    try:
        with store.engine.connect() as conn:
            with write_cache(conn):
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -WRITE_CACHE_KIB
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -READ_CACHE_KIB
    finally:
        store.close()


def test_an_sqlite_library_too_old_for_the_store_is_refused_by_name() -> None:
    check_sqlite(SQLITE_MIN)
    with pytest.raises(ConfigError, match=r"SQLite 3\.32\.3 is too old: the store needs 3\.33\.0"):
        check_sqlite((3, 32, 3))
