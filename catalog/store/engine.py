"""Engines for the two supported databases, set up the way the store expects them."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from catalog.errors import ConfigError

BUSY_TIMEOUT_MS = 30_000
# SQLite's page cache, per connection. A pool holds up to 15 connections, so readers keep
# SQLite's default (2 MiB each) and only a connection writing a batch grows to 64 MiB, handing
# it back when the batch is written: the API process's memory stays bounded by the estate's
# lineage graph, not by how many connections once wrote.
READ_CACHE_KIB = 2_000
WRITE_CACHE_KIB = 64 * 1024
WAL_CHECKPOINT_PAGES = 20_000  # ~80 MiB of 4 KiB pages
# UPDATE ... FROM (catalog.store.set_update) needs 3.33; lists are bound as JSON (json_each).
SQLITE_MIN = (3, 33, 0)


def default_database_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("tempox", appauthor=False))
    return f"sqlite:///{data_dir / 'tempox.db'}"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"database URL {url!r} is not a valid URL: {exc}") from exc
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"database URL {url!r}: only sqlite and postgresql are supported")
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if backend == "sqlite":
        check_sqlite(sqlite3.sqlite_version_info)
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # Threads of one process (API, background sync) share the file; WAL lets readers go on
        # while a sync writes, and the busy timeout makes writers queue instead of failing.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(parsed, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def check_sqlite(version: tuple[int, int, int]) -> None:
    """Refuse an SQLite library the store's statements cannot run on, saying which it is."""
    if version < SQLITE_MIN:
        have, need = ".".join(map(str, version)), ".".join(map(str, SQLITE_MIN))
        raise ConfigError(
            f"SQLite {have} is too old: the store needs {need} or newer "
            "(the library Python's sqlite3 module is linked against), or use PostgreSQL"
        )
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT value FROM json_each('[1]')").fetchall()
    except sqlite3.OperationalError:
        raise ConfigError(
            "this SQLite library was built without its JSON functions (json_each), "
            "which the store needs; use a build with them, or PostgreSQL"
        ) from None
    finally:
        probe.close()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _use_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size={-READ_CACHE_KIB}")
    # SQLite copies the WAL back into the database (and syncs it) once the WAL passes 1,000
    # pages: with a sync's batches of several MiB that is at nearly every commit, and an index
    # page changed by every batch is copied back every time. A larger WAL copies each such
    # page once per checkpoint instead (ingest ~25% faster). As before, with synchronous=NORMAL
    # a power cut (not a crashed process) may lose the commits since the last checkpoint, now
    # up to ~80 MiB of them, never consistency: a sync's cursor goes back with its records
    # (OpenLineage events answered 201 since then are lost too: a deployment that must never
    # lose one runs on PostgreSQL, as production does).
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@contextmanager
def write_cache(conn: Connection) -> Iterator[None]:
    """A bigger SQLite page cache while ``conn`` writes a batch (nothing on PostgreSQL).

    A batch touches pages of every table's indexes (an asset event's key starts with its
    asset's URI, so its inserts land all over that index); with 2 MiB of cache they would be
    read back from the OS again and again. Lowering the size again frees the pages.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size={-WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={-READ_CACHE_KIB}")


def _use_wal(cur: Any) -> None:
    # WAL is kept in the file: only the first connection of a new database switches to it. That
    # switch needs the file to itself and fails at once, busy timeout or not, when another
    # process opens the same new file meanwhile (replicas starting together): so it is retried.
    if cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
