"""What every entity's writer shares: the batch's state, chunking and the meta counters."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table, update
from sqlalchemy.sql.dml import UpdateBase

from catalog.errors import AdapterError
from catalog.store import tables as t
from catalog.store.bulk import execute_many, upsert
from catalog.store.prepared import select_rows
from catalog.store.set_update import Condition, update_rows

_meta = t.Meta.__table__  # type: ignore[attr-defined]


CHUNK = 900  # IN-list size: well under SQLite's bound-parameter limit on every build
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
K = TypeVar("K")


def chunks(items: Sequence[K], size: int = CHUNK) -> Iterator[Sequence[K]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def bump(conn: Connection, key: str) -> None:
    updated = conn.execute(update(_meta).where(_meta.c.key == key).values(value=_meta.c.value + 1))
    if updated.rowcount == 0:
        upsert(conn, _meta, [{"key": key, "value": 1}], ["key"], ["value"])


class Writer:
    """What one batch's writing knows: its connection, the ids resolved so far and how many
    rows changed. The entity modules' functions take it first."""

    def __init__(self, conn: Connection, source_id: int, now: datetime) -> None:
        self.conn = conn
        self.source_id = source_id
        self.now = now
        self.pipelines: dict[str, int] = {}
        self.tasks: dict[tuple[int, str], int] = {}
        self.runs: dict[str, tuple[int, int]] = {}  # external id -> (run id, pipeline id)
        self.assets: dict[str, int] = {}
        self.changed = 0
        self.observing = False

    def upsert(
        self,
        table: Table,
        rows: list[dict[str, Any]],
        keys: Sequence[str],
        update_cols: Sequence[str] | None = None,
        keep_existing: Iterable[str] = (),
        *,
        guarded: Iterable[str] = (),
        guard_by: str | None = None,
    ) -> int:
        n = upsert(
            self.conn,
            table,
            rows,
            keys,
            update_cols,
            keep_existing,
            guarded=guarded,
            guard_by=guard_by,
        )
        self.changed += n
        return n

    def execute_many(self, stmt: UpdateBase, rows: Sequence[dict[str, Any]]) -> int:
        n = execute_many(self.conn, stmt, rows)
        self.changed += n
        return n

    def update_rows(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        where: Condition | None = None,
    ) -> int:
        n = update_rows(self.conn, table, columns, rows, where)
        self.changed += n
        return n

    def execute(self, stmt: Any, params: Any = None) -> int:
        n = max(self.conn.execute(stmt, params).rowcount, 0)
        self.changed += n
        return n

    def rows(
        self, build: Callable[[], Select[Any]], ids: Collection[Any], **values: Any
    ) -> list[Any]:
        """Rows of the lookup ``build`` makes (a module function, so compiled once) for
        ``ids``, its ``in_values(..., key="ids")`` list."""
        if not ids:
            return []
        return select_rows(self.conn, build, ids=list(ids), **values)

    def run(self, external_id: str, what: str) -> tuple[int, int]:
        try:
            return self.runs[external_id]
        except KeyError:
            raise AdapterError(
                f"{what} refers to run {external_id!r}, which this source has not reported"
            ) from None
