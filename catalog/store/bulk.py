"""Bulk upserts straight through the database driver.

SQLAlchemy's per-row parameter processing costs several times what SQLite spends executing an
``executemany`` of upserts. Here a statement is compiled once per shape and rows are converted
by one small function per column, then handed to the driver's ``executemany``; both sqlite3 and
psycopg report the summed row count, which is the number of rows inserted or changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Connection, Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.sql.dml import UpdateBase

from catalog.store.conflict import on_conflict
from catalog.store.staged import staged_fits, staged_upsert
from catalog.store.types import UTCDateTime

Convert = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _sqlite_time(value: datetime | None) -> str | None:
    # The exact text SQLAlchemy's SQLite DATETIME writes (naive UTC, always with microseconds),
    # so values written here and there compare and sort alike.
    if value is None:
        return None
    zone = value.tzinfo
    if zone is None:
        return value.isoformat(" ", "microseconds")
    if zone is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # drop the "+00:00"


def _postgres_time(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _sqlite_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value) if value else "{}"  # most metadata is empty: skip the encoder


def _postgres_json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def driver_converter(column_type: Any, dialect: str) -> Convert:
    """How a value of ``column_type`` is handed to the driver of ``dialect``."""
    if isinstance(column_type, UTCDateTime):
        return _sqlite_time if dialect == "sqlite" else _postgres_time
    if isinstance(column_type, JSON):
        return _sqlite_json if dialect == "sqlite" else _postgres_json
    return _identity


@lru_cache(maxsize=8)
def _positional(dialect: Dialect) -> Dialect:
    """``dialect`` compiling positional parameters: rows go to the driver as tuples."""
    if dialect.positional:
        return dialect
    out = psycopg.dialect(paramstyle="format")  # type: ignore[no-untyped-call]
    out.server_version_info = dialect.server_version_info
    return out


def _params(
    rows: Sequence[Mapping[str, Any]], names: Sequence[str], converters: Sequence[Convert]
) -> list[tuple[Any, ...]]:
    """Each row's values in ``names`` order, converted for the driver.

    Column by column, and the loops run in C (``itemgetter``, ``map``, ``zip``): each column is
    read straight from the rows, a column that needs no conversion is not touched at all, and
    the tuples are built once.
    """
    if len(names) == 1:
        (name,), (convert,) = names, converters
        return [(convert(row[name]),) for row in rows]
    if all(f is _identity for f in converters):
        return list(map(itemgetter(*names), rows))
    columns = [
        map(itemgetter(n), rows) if f is _identity else map(f, map(itemgetter(n), rows))
        for n, f in zip(names, converters, strict=True)
    ]
    return list(zip(*columns, strict=True))


@lru_cache(maxsize=256)
def _compiled_statement(
    dialect: Dialect, stmt: UpdateBase
) -> tuple[str, tuple[str, ...], tuple[Convert, ...]]:
    compiled = stmt.compile(dialect=_positional(dialect), for_executemany=True)
    order = tuple(compiled.positiontup or ())
    converters = tuple(driver_converter(compiled.binds[n].type, dialect.name) for n in order)
    return compiled.string, order, converters


def execute_many(conn: Connection, stmt: UpdateBase, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run ``stmt`` (every parameter a named ``bindparam``) once per row through the driver.

    ``stmt`` is compiled once per dialect, so it should be built once (a module constant).
    Returns the number of rows the statement changed.
    """
    if not rows:
        return 0
    sql, order, converters = _compiled_statement(conn.dialect, stmt)
    return max(conn.exec_driver_sql(sql, _params(rows, order, converters)).rowcount, 0)


@lru_cache(maxsize=256)
def _compiled(
    dialect: Dialect,
    table: Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    update_cols: tuple[str, ...] | None,
    keep: frozenset[str],
    guarded: frozenset[str],
    guard_by: str | None,
) -> tuple[str, tuple[str, ...], tuple[Convert, ...]]:
    """SQL text, the column order of its positional parameters and their converters."""
    module = postgresql if dialect.name == "postgresql" else sqlite
    stmt = on_conflict(module.insert(table), table, keys, update_cols, keep, guarded, guard_by)
    compiled = stmt.compile(
        dialect=_positional(dialect), column_keys=list(columns), for_executemany=True
    )
    order = tuple(compiled.positiontup or ())
    converters = tuple(driver_converter(table.c[c].type, dialect.name) for c in order)
    return compiled.string, order, converters


def upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    keys: Sequence[str],
    update_cols: Sequence[str] | None = None,
    keep_existing: Iterable[str] = (),
    *,
    guarded: Iterable[str] = (),
    guard_by: str | None = None,
) -> int:
    """Insert rows; on a key conflict update ``update_cols`` (None: leave the row alone).

    Columns in ``keep_existing`` keep their stored value when the new one is NULL, so a source
    that knows less about a thing never erases what another source said. Every row must have
    the same keys. Columns in ``guarded`` change only when the row's ``guard_by`` time is not
    older than the stored one (a stored NULL always yields). Returns the number of rows inserted
    or changed.
    """
    if not rows:
        return 0
    columns = tuple(rows[0])
    sql, order, converters = _compiled(
        conn.dialect,
        table,
        columns,
        tuple(keys),
        None if update_cols is None else tuple(update_cols),
        frozenset(keep_existing),
        frozenset(guarded),
        guard_by,
    )
    params = _params(rows, order, converters)
    if conn.dialect.name == "postgresql" and staged_fits(rows, keys):
        return staged_upsert(
            conn,
            table,
            columns,
            params,
            (
                tuple(keys),
                None if update_cols is None else tuple(update_cols),
                frozenset(keep_existing),
                frozenset(guarded),
                guard_by,
            ),
        )
    inserted = 0
    if conn.dialect.name == "sqlite":
        # SQLite's upsert probes the key's index once more per row than a plain insert does
        # (about half as much again for new rows). Most rows of a sync are new: insert them
        # plainly, and only when some were not inserted (they exist, or broke a constraint)
        # run the upsert over all the rows in order. On the rows just inserted it changes
        # nothing (their stored values are theirs, so its WHERE skips them); the others meet
        # exactly the state the upsert alone would have met, and a constraint it would have
        # raised on it still raises. A NULL in a key never conflicts, so such a row would be
        # inserted twice: those rows take the upsert alone.
        plain, plain_order = _compiled_insert_or_ignore(conn.dialect, table, columns)
        if plain_order == order and not any(None in map(itemgetter(k), rows) for k in keys):
            inserted = max(conn.exec_driver_sql(plain, params).rowcount, 0)
            if inserted == len(params):
                return inserted
    return inserted + max(conn.exec_driver_sql(sql, params).rowcount, 0)


@lru_cache(maxsize=256)
def _compiled_insert_or_ignore(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    stmt = sqlite.insert(table).prefix_with("OR IGNORE")
    compiled = stmt.compile(
        dialect=_positional(dialect), column_keys=list(columns), for_executemany=True
    )
    return compiled.string, tuple(compiled.positiontup or ())
