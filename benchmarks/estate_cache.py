"""Built synthetic estates kept as SQLite files, so a benchmark that only reads one (the API's
memory, say) builds it once: at scale 1.0 that is 13M rows and the better part of half an hour.

A cached file lives under ``.cache/bench/estates/`` (ignored by git), named after the scale and
a key over what decides its content: the estate's configuration, the schema's migrations and
the synthetic adapter's source. Change any of them and the next run builds afresh (how the
store writes is not in the key: faster writes of the same rows keep the estate). Each use gets
its own copy, so whatever the process under test writes never reaches the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench" / "estates"
# What an estate's rows and tables are made of: a change to one of these may change them.
SOURCES = (
    ROOT / "adapters" / "synthetic.py",
    *sorted((ROOT / "catalog" / "migrations" / "versions").glob("*.py")),
)


def estate_key(config: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    for source in SOURCES:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def cached_path(scale: float, config: dict[str, Any]) -> Path:
    return CACHE / f"scale{scale:g}-{estate_key(config)}.db"


def build(path: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Writes the estate of ``config`` through ``Store.write_batch`` into the SQLite file
    ``path`` (a temporary name first, renamed when complete) and its counts beside it."""
    from adapters.synthetic import SyntheticAdapter
    from benchmarks.ingest import ingest
    from catalog.store.store import Store

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.db")
    store = Store(f"sqlite:///{partial}")
    started = time.perf_counter()
    try:
        adapter = SyntheticAdapter("synthetic", SyntheticAdapter.config_class(**config))
        _, records = ingest(store, adapter.fetch(None))
        with store.engine.connect() as conn:
            counts = {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("run", "task_run", "asset", "lineage_edge")
            }
            # Everything into the main file, so the copy a use takes is the whole database.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    facts = {**counts, "records": records, "build_s": round(time.perf_counter() - started, 1)}
    for suffix in ("-wal", "-shm", "-migrate.lock"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.rename(path)
    path.with_suffix(".json").write_text(json.dumps(facts, indent=2))
    return facts


def cached_estate(scale: float, config: dict[str, Any], into: Path) -> tuple[Path, dict[str, Any]]:
    """A private copy, in the folder ``into``, of the estate of ``config`` (built first when the
    cache has none) and its facts (counts, build time, whether the cache had it)."""
    path = cached_path(scale, config)
    hit = path.exists() and path.with_suffix(".json").exists()
    facts = json.loads(path.with_suffix(".json").read_text()) if hit else build(path, config)
    copy = into / "tempox.db"
    shutil.copyfile(path, copy)
    return copy, {**facts, "cached": hit}


def copy_to_postgres(path: Path, url: str) -> int:
    """Every row of the SQLite estate ``path`` into the empty, migrated PostgreSQL database at
    ``url``, with ``COPY`` (minutes for 13M rows, where writing the estate again takes the
    better part of an hour), the sequences moved past the copied ids. Rows copied."""
    from sqlmodel import SQLModel

    from catalog.store.bulk import driver_converter
    from catalog.store.store import Store

    source, target = Store(f"sqlite:///{path}", migrate=False), Store(url)
    copied = 0
    try:
        dbapi = target.engine.raw_connection()
        try:
            cursor = dbapi.cursor()
            # The rows are a consistent database already: no foreign key checks.
            cursor.execute("SET session_replication_role = replica")
            # meta and sync_state are the target's own (its counters, no syncs in flight).
            for table in SQLModel.metadata.sorted_tables:
                if table.name in ("sync_state", "meta"):
                    continue
                names = [c.name for c in table.columns]
                converters = [driver_converter(c.type, "postgresql") for c in table.columns]
                sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
                with source.engine.connect() as conn, cursor.copy(sql) as copy:  # type: ignore[attr-defined]
                    result = conn.execution_options(yield_per=20_000).execute(select(table))
                    for row in result:
                        copy.write_row([f(v) for f, v in zip(converters, row, strict=True)])
                        copied += 1
                if "id" in table.columns:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false) "
                        f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL"
                    )
            dbapi.commit()
            cursor.execute("ANALYZE")
            dbapi.commit()
        finally:
            dbapi.close()
    finally:
        source.close()
        target.close()
    return copied


def main() -> None:
    """``python -m benchmarks.estate_cache SCALE``: build the estate of ``SCALE`` ahead of use."""
    import sys

    from benchmarks.__main__ import estate_config

    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    config = estate_config(scale)
    path = cached_path(scale, config)
    if path.exists():
        print(f"{path}: already built")
        return
    print(f"{path}: {build(path, config)}")


if __name__ == "__main__":
    main()
