"""Alembic, driven from code: the scripts ship inside the package, so an installed Tempox can
upgrade any database it is pointed at.

Several processes may start on one database at once (API replicas, a worker, ``tempox db
upgrade``), so migrating takes a database-wide lock: the first process migrates, the others wait
for it, look again and find the database at head. A database already at head takes no lock.

- PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) on the connection that then
  runs the migrations, released after them, or by the server when the connection dies with
  its process. Its key is a constant plus a hash of ``current_schema()``, so processes
  migrating the same schema queue up while processes migrating other schemas of the database
  (one per test) do not wait for each other.
- SQLite file: an exclusive ``flock`` on ``<database>-migrate.lock`` next to the database file
  (a file of its own: opening and closing the database file itself would drop SQLite's own
  POSIX locks); the kernel releases it when the process dies. In-memory databases belong to a
  single connection and need no lock.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, text

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# The first half of every PostgreSQL advisory lock key Tempox takes ("tmpx"); the second half
# names the schema. Two-int keys live apart from single bigint keys, so nobody else's collide.
LOCK_NAMESPACE = 0x746D7078

log = logging.getLogger("tempox.migrate")


def alembic_config(engine: Engine, connection: Connection | None = None) -> Config:
    """Alembic's configuration; with ``connection``, migrations run on it, in its transaction."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``; safe to call from several processes at once."""
    if revision == "head" and current_revision(engine) == head_revision():
        return  # the usual start: nothing to do, no lock taken
    with engine.connect() as conn, migration_lock(conn), conn.begin():
        # Another process may have migrated while this one waited for the lock.
        if revision == "head" and _revision(conn) == head_revision():
            return
        command.upgrade(alembic_config(engine, conn), revision)


@contextmanager
def migration_lock(conn: Connection) -> Iterator[None]:
    """Hold the migration lock of ``conn``'s database (of its schema, on PostgreSQL).

    The block starts outside any transaction of ``conn``, so what it reads next was committed
    before the lock was granted, whatever the isolation level.
    """
    backend = conn.dialect.name
    if backend == "postgresql":
        with _postgres_lock(conn):
            yield
        return
    path = sqlite_lock_path(conn.engine.url) if backend == "sqlite" else None
    if path is None:
        yield
        return
    with _file_lock(path):
        yield


def postgres_lock_key(conn: Connection) -> tuple[int, int]:
    """The two int4 halves of the advisory lock key for the schema ``conn`` migrates."""
    schema = conn.execute(text("SELECT current_schema()")).scalar() or ""
    crc = zlib.crc32(f"tempox.migrate:{schema}".encode())
    return LOCK_NAMESPACE, crc - (1 << 32) if crc >= 1 << 31 else crc


@contextmanager
def _postgres_lock(conn: Connection) -> Iterator[None]:
    # Session-level, not transaction-level: it also spans migrations that commit on their own
    # (an autocommit block), and the re-check after it runs in a transaction of its own.
    namespace, key = postgres_lock_key(conn)
    params = {"namespace": namespace, "key": key}
    if not conn.execute(text("SELECT pg_try_advisory_lock(:namespace, :key)"), params).scalar():
        log.info("another process is migrating the database; waiting for it")
        conn.execute(text("SELECT pg_advisory_lock(:namespace, :key)"), params)
    conn.commit()
    try:
        yield
    finally:
        try:
            conn.rollback()  # whatever the block left open (nothing, unless it failed)
            conn.execute(text("SELECT pg_advisory_unlock(:namespace, :key)"), params)
            conn.commit()
        except Exception:
            # The connection broke: dropping it ends its session, and the lock goes with it.
            log.warning("could not release the migration lock; closing its connection")
            conn.invalidate()


def sqlite_lock_path(url: URL) -> Path | None:
    """The lock file of a SQLite database file; None for an in-memory database."""
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename (``?uri=true``)
        database = database[len("file:") :]
        if url.query.get("mode") == "memory":
            return None
    if not database or database == ":memory:":
        return None
    return Path(f"{database}-migrate.lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl  # POSIX only, like the deployments this lock is for

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info(
                "another process is migrating %s; waiting for it",
                path.name[: -len("-migrate.lock")],
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
