"""Ingest: Tempox's idempotent batch upserts against raw ``executemany`` of the same rows.

Tempox writes the generated estate batch by batch (resolving references, upserting, moving the
cursor). The baseline then inserts exactly the rows Tempox ended up with into a fresh database
with the same schema and indexes, with the DB-API's ``executemany`` and nothing else: the
fastest a writer of these rows could possibly be on this database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from catalog.records import Batch
from catalog.store.store import Store

CHUNK = 20_000


def ingest(store: Store, batches: Iterable[Batch]) -> tuple[float, int]:
    """Seconds spent in ``write_batch`` (generation is not timed) and records written."""
    source = store.ensure_source("synthetic", "synthetic")
    spent, records = 0.0, 0
    for batch in batches:
        start = time.perf_counter()
        store.write_batch(source, batch)
        spent += time.perf_counter() - start
        records += batch.size()
    return spent, records


def raw_copy(ours: Store, raw: Store) -> tuple[float, int]:
    """Seconds to executemany every row of ``ours`` into the empty ``raw``, and rows copied."""
    spent, copied = 0.0, 0
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in ("sync_state", "meta")]
    dbapi = raw.engine.raw_connection()
    try:
        cursor = dbapi.cursor()
        placeholder = "?" if raw.engine.dialect.name == "sqlite" else "%s"
        for table in tables:
            columns = [c.name for c in table.columns]
            sql = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join([placeholder] * len(columns))})"
            )
            processors = [_processor(c, raw) for c in table.columns]
            with ours.engine.connect() as conn:
                result = conn.execution_options(yield_per=CHUNK).execute(select(table))
                for part in result.partitions():
                    rows = [
                        tuple(p(v) for p, v in zip(processors, row, strict=True)) for row in part
                    ]
                    start = time.perf_counter()
                    cursor.executemany(sql, rows)
                    dbapi.commit()
                    spent += time.perf_counter() - start
                    copied += len(rows)
    finally:
        dbapi.close()
    return spent, copied


def _processor(column: Any, store: Store) -> Any:
    """The column type's own bind conversion (JSON to text, UTC datetimes), done untimed."""
    process = column.type.bind_processor(store.engine.dialect)
    return process if process is not None else (lambda v: v)
