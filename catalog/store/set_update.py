"""Updates of many rows by key in one statement: ``UPDATE ... FROM`` a list of rows.

An ``executemany`` of single-row UPDATEs has the database start, plan and finish one statement
per row (PostgreSQL spends most of a batch's asset updates there). Here the rows are bound as
one parameter per column on PostgreSQL (arrays, read with ``unnest``) or one JSON array on
SQLite (read with ``json_each``), and one statement joins them to the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

from catalog.store.bulk import Convert, driver_converter

# Given the table and the incoming row's columns (by name): whether to update the row.
Condition = Callable[[Table, Any], ColumnElement[bool]]


def update_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    where: Condition | None = None,
) -> int:
    """Set ``columns[1:]`` of the row whose ``columns[0]`` (a unique key) is each row's first
    value, where ``where`` holds; the number of rows changed. Values are ints, floats, text or
    datetimes (not JSON), each key at most once.

    ``where`` should be a module function: the statement is compiled once per dialect, table,
    columns and condition.
    """
    if not rows:
        return 0
    sql, converters = _compiled(conn.dialect, table, tuple(columns), where)
    values = zip(*rows, strict=True)
    by_column = [list(map(f, v)) for f, v in zip(converters, values, strict=True)]
    if conn.dialect.name == "postgresql":
        params: Any = {f"c{i}": column for i, column in enumerate(by_column)}
    else:
        params = (json.dumps([list(row) for row in zip(*by_column, strict=True)]),)
    return max(conn.exec_driver_sql(sql, params).rowcount, 0)


@lru_cache(maxsize=64)
def _compiled(
    dialect: Dialect, table: Table, columns: tuple[str, ...], where: Condition | None
) -> tuple[str, tuple[Convert, ...]]:
    key, *values = columns
    incoming: Any
    if dialect.name == "postgresql":
        arrays = [bindparam(f"c{i}", type_=ARRAY(table.c[c].type)) for i, c in enumerate(columns)]
        incoming = func.unnest(*arrays).table_valued(*columns).render_derived(name="v")
    else:
        rows = func.json_each(bindparam("rows")).table_valued("value").alias("j")
        incoming = (
            select(*(_item(rows.c.value, i).label(c) for i, c in enumerate(columns)))
            .select_from(rows)
            .subquery("v")
        )
    stmt = update(table).where(table.c[key] == incoming.c[key])
    if where is not None:
        stmt = stmt.where(where(table, incoming.c))
    stmt = stmt.values({c: incoming.c[c] for c in values})
    converters = tuple(driver_converter(table.c[c].type, dialect.name) for c in columns)
    return str(stmt.compile(dialect=dialect)), converters


def _item(value: ColumnElement[Any], index: int) -> ColumnElement[Any]:
    return func.json_extract(value, literal_column(f"'$[{index}]'"))
