"""Ingest: Tempox's idempotent batch upserts against raw ``executemany`` of the same rows.

Tempox writes the generated estate batch by batch (resolving references, upserting, moving the
cursor). The baseline then inserts exactly the rows Tempox ended up with into a fresh database
with the same schema and indexes, with the DB-API's ``executemany`` and nothing else: plain
INSERTs of rows whose ids are already known. Its timer covers turning the Python values into
the driver's (datetimes, JSON), with the fastest converters there are, and the executemany.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import SQLModel

from catalog.records import Batch
from catalog.store.bulk import driver_converter
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
            converters = [driver_converter(c.type, raw.engine.dialect.name) for c in table.columns]
            with ours.engine.connect() as conn:
                result = conn.execution_options(yield_per=CHUNK).execute(select(table))
                for part in result.partitions():
                    start = time.perf_counter()
                    rows = [
                        tuple(f(v) for f, v in zip(converters, row, strict=True)) for row in part
                    ]
                    cursor.executemany(sql, rows)
                    dbapi.commit()
                    spent += time.perf_counter() - start
                    copied += len(rows)
    finally:
        dbapi.close()
    return spent, copied
