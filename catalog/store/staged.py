"""PostgreSQL upserts of many rows: COPY into a temporary table, then one INSERT ... SELECT.

An ``executemany`` of upserts has the server plan-cache, start and finish the executor once
per row, which is most of what a large batch costs there. Staged, the rows arrive by COPY and
one statement merges them, with exactly the upsert's ON CONFLICT clause. One statement may not
touch a row twice, so rows repeating a key keep the per-row path (and its order).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Connection, Dialect, MetaData, Table, select
from sqlalchemy.dialects import postgresql

from catalog.store.conflict import on_conflict

STAGE_MIN = 200  # rows: below this the temporary table costs more than it saves

# keys, update columns, columns kept when NULL, guarded columns, the guard's time column
Conflict = tuple[
    tuple[str, ...], tuple[str, ...] | None, frozenset[str], frozenset[str], str | None
]


def staged_fits(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> bool:
    """Whether ``rows`` are many enough to stage, and no two share a key."""
    if len(rows) < STAGE_MIN:
        return False
    return len(set(map(itemgetter(*keys), rows))) == len(rows)


def staged_upsert(
    conn: Connection,
    table: Table,
    columns: tuple[str, ...],
    params: list[tuple[Any, ...]],
    conflict: Conflict,
) -> int:
    """Upsert ``params`` (tuples in ``columns`` order, converted for the driver) into
    ``table``; the number of rows inserted or changed."""
    create, copy, merge, drop = _statements(conn.dialect, table, columns, conflict)
    conn.exec_driver_sql(create)
    driver: Any = conn.connection.driver_connection  # psycopg's own connection
    with driver.cursor() as cursor, cursor.copy(copy) as out:
        for row in params:
            out.write_row(row)
    changed = max(conn.exec_driver_sql(merge).rowcount, 0)
    conn.exec_driver_sql(drop)
    return changed


@lru_cache(maxsize=256)
def _statements(
    dialect: Dialect, table: Table, columns: tuple[str, ...], conflict: Conflict
) -> tuple[str, str, str, str]:
    quote = dialect.identifier_preparer.quote
    name = f"tempox_stage_{table.name}"
    listed = ", ".join(quote(c) for c in columns)
    # Same column types as the table, none of its constraints: those apply on the merge.
    create = (
        f"CREATE TEMPORARY TABLE {quote(name)} AS "
        f"SELECT {listed} FROM {quote(table.name)} WITH NO DATA"
    )
    stage = Table(name, MetaData(), *(Column(c, table.c[c].type) for c in columns))
    stmt = postgresql.insert(table).from_select(list(columns), select(*stage.c))
    merge = on_conflict(stmt, table, *conflict).compile(dialect=dialect)
    return (
        create,
        f"COPY {quote(name)} ({listed}) FROM STDIN",
        str(merge),
        f"DROP TABLE {quote(name)}",
    )
