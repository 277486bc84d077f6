from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from catalog.store.engine import make_engine
from catalog.store.migrate import (
    current_revision,
    head_revision,
    migration_lock,
    postgres_lock_key,
    sqlite_lock_path,
    upgrade,
)
from catalog.store.store import Store
from tests.databases import database_url

ROOT = Path(__file__).resolve().parents[3]


def assert_at_head_with_declared_schema(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_migrations_build_exactly_the_declared_schema(database: str) -> None:
    engine = make_engine(database)
    upgrade(engine)
    assert_at_head_with_declared_schema(engine)
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


# -- several processes at once (issue 13: replicas start together) ------------------------------

# A replica: imports everything, says it is ready, waits for the start signal, then opens the
# store as the API does on start (which migrates the empty database).
REPLICA = """
import logging, sys, time
from pathlib import Path

from catalog.store.store import Store

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
deadline = time.monotonic() + 120
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("never told to start")
    time.sleep(0.001)
Store(url).close()
"""


@pytest.mark.slow
def test_replicas_started_together_on_an_empty_database_all_come_up(
    database: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{i}" for i in range(3)]
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, database, str(ready), str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ready in readies
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(ready.exists() for ready in readies):
            for replica in replicas:
                assert replica.poll() is None, replica.communicate()
            assert time.monotonic() < deadline, "the replicas did not get ready within 2 min"
            time.sleep(0.01)
        go.touch()  # all three start migrating within a few milliseconds of each other
        outputs = [replica.communicate(timeout=120) for replica in replicas]
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.kill()
                replica.wait()
    for replica, (_, stderr) in zip(replicas, outputs, strict=True):
        assert replica.returncode == 0, stderr
    engine = make_engine(database)
    assert_at_head_with_declared_schema(engine)
    engine.dispose()


def test_a_migration_waits_for_the_lock_and_then_finds_work_done_or_does_it(
    database: str,
) -> None:
    holder, migrator = make_engine(database), make_engine(database)
    with ThreadPoolExecutor(1) as pool:
        with holder.connect() as conn, migration_lock(conn):
            waiting = pool.submit(upgrade, migrator)
            time.sleep(0.5)
            assert not waiting.done()  # queued behind the holder, nothing migrated meanwhile
            assert current_revision(holder) is None
        waiting.result(timeout=60)
    assert_at_head_with_declared_schema(migrator)
    holder.dispose()
    migrator.dispose()


def test_a_database_at_head_starts_without_waiting_for_the_lock(database: str) -> None:
    engine = make_engine(database)
    upgrade(engine)
    other = make_engine(database)
    with ThreadPoolExecutor(1) as pool, other.connect() as conn, migration_lock(conn):
        pool.submit(Store, database).result(timeout=30).close()
    engine.dispose()
    other.dispose()


def test_other_postgres_schemas_do_not_wait_for_each_other(tmp_path: Path) -> None:
    with (
        database_url("postgres", tmp_path) as first,
        database_url("postgres", tmp_path) as second,
    ):
        holder, migrator = make_engine(first), make_engine(second)
        with holder.connect() as a, migrator.connect() as b:
            assert postgres_lock_key(a) != postgres_lock_key(b)
            assert postgres_lock_key(a)[0] == postgres_lock_key(b)[0]  # one constant namespace
        with ThreadPoolExecutor(1) as pool, holder.connect() as conn, migration_lock(conn):
            pool.submit(upgrade, migrator).result(timeout=60)  # not held up by `first`'s lock
        assert_at_head_with_declared_schema(migrator)
        assert current_revision(holder) is None
        holder.dispose()
        migrator.dispose()


@pytest.mark.parametrize(
    ("url", "lock"),
    [
        ("sqlite:////data/tempox.db", "/data/tempox.db-migrate.lock"),
        ("sqlite:///tempox.db", "tempox.db-migrate.lock"),
        ("sqlite:///file:/data/tempox.db?uri=true", "/data/tempox.db-migrate.lock"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
    ],
)
def test_sqlite_lock_file_sits_next_to_the_database(url: str, lock: str | None) -> None:
    path = sqlite_lock_path(make_url(url))
    assert (str(path) if path else None) == lock


def test_an_in_memory_database_migrates() -> None:
    store = Store("sqlite://")
    assert current_revision(store.engine) == head_revision()
    store.close()
