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
from sqlalchemy import JSON, Connection, Dialect, Table, and_, case, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.sql.dml import UpdateBase

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

    Column by column: the loops run in C (``itemgetter``, ``zip``, ``map``) and a column that
    needs no conversion is not touched at all.
    """
    if len(names) == 1:
        (name,), (convert,) = names, converters
        return [(convert(row[name]),) for row in rows]
    values: list[tuple[Any, ...]] = list(map(itemgetter(*names), rows))
    todo = [(i, f) for i, f in enumerate(converters) if f is not _identity]
    if not todo:
        return values
    columns: list[Iterable[Any]] = list(zip(*values, strict=True))
    for i, f in todo:
        columns[i] = map(f, columns[i])
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
    stmt = module.insert(table)
    if update_cols is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    else:
        values = {
            c: func.coalesce(stmt.excluded[c], table.c[c]) if c in keep else stmt.excluded[c]
            for c in update_cols
        }
        if guard_by is not None:
            stored, incoming = table.c[guard_by], stmt.excluded[guard_by]
            # An observation older than the stored one changes nothing it guards; NULL on
            # both sides is last-write-wins.
            fresh = or_(stored.is_(None), and_(incoming.is_not(None), incoming >= stored))
            for c in guarded:
                values[c] = case((fresh, values[c]), else_=table.c[c])
        # Skip rows whose values are already stored: no write, no count, no MVCC churn.
        changed = or_(*(table.c[c].is_distinct_from(v) for c, v in values.items()))
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=values, where=changed)
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
    return max(conn.exec_driver_sql(sql, _params(rows, order, converters)).rowcount, 0)
