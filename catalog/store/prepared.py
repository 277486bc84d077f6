"""Statements compiled once and run on the bare DB-API cursor, for the hottest reads.

Executing a Core statement costs more in SQLAlchemy (building it, its cache key, result rows)
than in the database for a page of a hundred rows; loading ORM objects costs more again. A
statement whose text depends only on its *shape* (which filters are set, how many values each
holds) is compiled for the engine's dialect once and kept under that shape; each request then
only binds its values, through the columns' own bind and result processors, so a value reads
and compares exactly as it does through the ORM. On PostgreSQL the unchanging text also lets
psycopg prepare the statement on the server after a few executions.

Every value that varies between requests must be a named ``bindparam`` given in ``values``;
a bind left unnamed keeps the value it had when the statement was compiled (constants such as
an entity kind).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from threading import Lock, local
from typing import Any

from sqlalchemy import Connection, Dialect, Engine
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeEngine

__all__ = ["Cursor", "Prepared", "Statements", "padded", "select_rows"]

Processor = Callable[[Any], Any]
MAX_SHAPES = 512


@dataclass(slots=True)
class Prepared:
    sql: str
    order: tuple[str, ...] | None  # positional paramstyle: bind names in order; None: named
    constants: Mapping[str, Any]  # the binds' compiled values (what ``values`` may override)
    binds: Mapping[str, Processor]  # bind processors of the binds that have one
    types: tuple[TypeEngine[Any], ...]  # of the columns, in the dialect
    dialect: Dialect
    # (column index, result processor): known after the first execution, since a driver's
    # processor may depend on the type the driver reports (numbers on psycopg).
    results: tuple[tuple[int, Processor], ...] | None = None

    @classmethod
    def compile(cls, statement: Select[Any], dialect: Dialect) -> Prepared:
        compiled = statement.compile(dialect=dialect)
        binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds[name] = processor
        types = tuple(c.type.dialect_impl(dialect) for c in statement.selected_columns)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        constants = {name: bind.value for name, bind in compiled.binds.items()}
        return cls(compiled.string, order, constants, binds, types, dialect)

    def params(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self.constants, **values}
        for name, processor in self.binds.items():
            merged[name] = processor(merged[name])
        if self.order is None:
            return merged
        return [merged[name] for name in self.order]

    def rows(self, cursor: Cursor, values: Mapping[str, Any]) -> list[Any]:
        params = self.params(values)
        raw = cursor.raw
        if cursor.traced:
            # Whoever listens for statements on the engine (tests counting them) hears these
            # too; there is no execution context to give them.
            for listener in cursor.connection.dispatch.before_cursor_execute:
                listener(cursor.connection, raw, self.sql, params, None, False)
        raw.execute(self.sql, params)
        rows: list[Any] = raw.fetchall()
        results = self.results
        if results is None:
            results = self.results = self._results(raw.description)
        if not results:
            return rows
        out = []
        for row in rows:
            row = list(row)
            for i, processor in results:
                row[i] = processor(row[i])
            out.append(row)
        return out

    def _results(self, description: Sequence[Any]) -> tuple[tuple[int, Processor], ...]:
        found = []
        for i, (kind, column) in enumerate(zip(self.types, description, strict=True)):
            processor = kind.result_processor(self.dialect, column[1])
            if processor is not None:
                found.append((i, processor))
        return tuple(found)


class Statements:
    """The prepared statements of one engine, by shape (the most recently used few hundred)."""

    def __init__(self, engine: Engine, size: int = MAX_SHAPES) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._size = size
        self._cache: OrderedDict[Hashable, Prepared] = OrderedDict()
        self._lock = Lock()
        self._local = local()

    def get(self, shape: Hashable, build: Callable[[], Select[Any]]) -> Prepared:
        with self._lock:
            found = self._cache.get(shape)
            if found is not None:
                self._cache.move_to_end(shape)
                return found
        prepared = Prepared.compile(build(), self.dialect)
        with self._lock:
            self._cache[shape] = prepared
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return prepared

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A cursor on a pooled connection, for reads; the connection goes back rolled back.
        Within :meth:`reading`, the block's cursor."""
        shared: Cursor | None = getattr(self._local, "cursor", None)
        if shared is not None:
            yield shared
            return
        with self._open(snapshot=False) as cursor:
            yield cursor

    def shared(self) -> Cursor | None:
        """The cursor of the :meth:`reading` block this thread is in, if any."""
        found: Cursor | None = getattr(self._local, "cursor", None)
        return found

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The reads made in this block, on this thread, share one connection (one checkout,
        one reset) and one transaction: on SQLite, one snapshot of the file."""
        if getattr(self._local, "cursor", None) is not None:
            yield
            return
        with self._open(snapshot=True) as cursor:
            self._local.cursor = cursor
            try:
                yield
            finally:
                self._local.cursor = None

    @contextmanager
    def _open(self, *, snapshot: bool) -> Iterator[Cursor]:
        with self.engine.connect() as connection:
            raw = connection.connection.cursor()
            try:
                if snapshot and self.dialect.name == "sqlite":
                    raw.execute("BEGIN")  # PostgreSQL's driver opens one by itself
                yield Cursor(connection, raw, bool(connection.dispatch.before_cursor_execute))
            finally:
                raw.close()


@dataclass(frozen=True, slots=True)
class Cursor:
    """A DB-API cursor and the connection it is on."""

    connection: Connection
    raw: Any
    traced: bool  # someone listens for the engine's statements
    kept: dict[str, Any] = field(default_factory=dict)  # what a reading block read once


def padded(values: Sequence[Any]) -> list[Any]:
    """``values`` (not empty) repeated at the end up to a power of two: an ``IN`` list of
    these has a few shapes, not one per length, and the same matches."""
    size = 1
    while size < len(values):
        size *= 2
    return [*values, *[values[-1]] * (size - len(values))]


def select_rows(conn: Connection, build: Callable[[], Select[Any]], **values: Any) -> list[Any]:
    """Rows of the statement ``build`` makes, run on ``conn`` (within its transaction).

    ``build`` should be a module function: the statement is compiled once per dialect and
    kept under it. The writes look up the ids of thousands of rows per batch, and there
    SQLAlchemy's per-execution and per-row costs are several times the database's.
    """
    found = _compiled_on(conn.dialect, build)
    raw = conn.connection.cursor()
    try:
        return found.rows(Cursor(conn, raw, bool(conn.dispatch.before_cursor_execute)), values)
    finally:
        raw.close()


@lru_cache(maxsize=256)
def _compiled_on(dialect: Dialect, build: Callable[[], Select[Any]]) -> Prepared:
    return Prepared.compile(build(), dialect)
