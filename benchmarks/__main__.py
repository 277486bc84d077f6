"""Run the benchmarks: ``python -m benchmarks --scale 1.0`` (1M runs, ~5M task runs, 100k assets).

Every figure is a ratio against a baseline measured in the same run on the same database, since
absolute times on a shared machine say little. Results go to stdout (a Markdown table for the
README) and to ``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from adapters.synthetic import SyntheticAdapter
from benchmarks import graphql_vs_plain
from benchmarks.failed_runs import bench_failed_runs
from benchmarks.ingest import ingest, raw_copy
from benchmarks.lineage import bench_lineage
from benchmarks.machine import describe
from catalog.service import Catalog
from catalog.store.store import Store

HERE = Path(__file__).resolve().parent
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def estate_config(scale: float) -> dict[str, Any]:
    """At scale 1.0: 1,000 pipelines x 1,000 runs x 5 tasks (5M+ task runs), 100,000 assets."""
    pipelines = max(10, round(1000 * scale))
    return {
        "pipelines": pipelines,
        "runs_per_pipeline": 1000 if scale >= 0.01 else 100,
        "tasks_per_pipeline": 5,
        "assets": max(100, round(100_000 * scale)),
        "seed": 42,
        "batch_size": 1000,
        # Each task run writes one of its outputs (rotating): ~5 materialisations per run.
        "outputs_per_task_run": 1,
    }


@contextmanager
def database(kind: str, label: str) -> Iterator[str]:
    if kind == "sqlite":
        # A folder of its own: two runs at once (a smoke test beside a long run) never collide.
        root = HERE.parent / ".cache" / "bench"
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=root))
        try:
            yield f"sqlite:///{folder / 'tempox.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1, help="1.0 = 1M runs (default 0.1)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument(
        "--push-latency",
        type=int,
        metavar="RUNS",
        default=0,
        help="also time pushed vs polled syncs with real Airflow, Prefect and Dagster servers, "
        "RUNS runs each (benchmarks.push_latency; minutes per tool)",
    )
    parser.add_argument(
        "--no-http",
        dest="http",
        action="store_false",
        help="skip GraphQL vs a plain JSON endpoint over HTTP (benchmarks/graphql_vs_plain.py)",
    )
    parser.add_argument("--http-seconds", type=int, default=3, help="per wrk burst")
    args = parser.parse_args(argv)

    config = estate_config(args.scale)
    adapter = SyntheticAdapter("synthetic", SyntheticAdapter.config_class(**config))
    results: dict[str, Any] = {"scale": args.scale, "estate": config}
    with database(args.database, "tempox") as url, database(args.database, "raw") as raw_url:
        store = Store(url)
        results["machine"] = describe(store.engine)
        print(f"generating and ingesting the estate ({config}) …", flush=True)
        started = time.perf_counter()
        spent, records = ingest(store, adapter.fetch(None))
        wall = time.perf_counter() - started
        raw_store = Store(raw_url)
        raw_spent, rows = raw_copy(store, raw_store)
        raw_store.close()
        results["ingest"] = {
            "records": records,
            "rows": rows,
            "tempox_s": spent,
            "wall_s_including_generation": wall,
            "raw_executemany_s": raw_spent,
            "tempox_rows_per_s": rows / spent,
            "raw_rows_per_s": rows / raw_spent,
            "ratio": raw_spent / spent,
        }
        print(json.dumps(results["ingest"], indent=2), flush=True)

        with store.engine.connect() as conn:
            latest = conn.execute(text("SELECT max(happened_at) FROM run")).scalar()
        until = latest if isinstance(latest, datetime) else datetime.fromisoformat(str(latest))
        until = until.replace(tzinfo=UTC) if until.tzinfo is None else until
        catalog = Catalog(store, clock=lambda: until)
        results["failed_runs"] = bench_failed_runs(catalog, until)
        print(json.dumps(results["failed_runs"], indent=2), flush=True)
        results["lineage"] = bench_lineage(catalog)
        print(json.dumps(results["lineage"], indent=2), flush=True)
        store.close()

    if args.push_latency:
        from benchmarks import push_latency  # starts real orchestrators: only when asked

        results["push_latency"] = push_latency.main(["--runs", str(args.push_latency)])

    if args.http:
        # Its own, smaller estate ending today: failedRuns of the last seven days finds runs.
        results["graphql_vs_plain"] = graphql_vs_plain.bench(
            args.database,
            seconds=args.http_seconds,
            rounds=3,
            connections=16,
            pipelines=max(10, round(2000 * args.scale)),
            runs_per_pipeline=20,
            log_folder=args.output.parent,
        )

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str))
    print(report(results))
    if args.push_latency:
        print()
        print(push_latency.report(results["push_latency"]))
    if args.http:
        print(graphql_vs_plain.report([results["graphql_vs_plain"]]))


def report(r: dict[str, Any]) -> str:
    i, f, g = r["ingest"], r["failed_runs"], r["lineage"]
    return "\n".join(
        [
            f"Machine: {r['machine']['cpu']}, {r['machine']['memory']} RAM, "
            f"Python {r['machine']['python']}, {r['machine']['database']}. "
            f"Estate: {i['rows']:,} rows (scale {r['scale']}).",
            "",
            "| measure | Tempox | baseline (same run) | ratio | target |",
            "|---|---|---|---|---|",
            f"| ingest, rows/s | {i['tempox_rows_per_s']:,.0f} (idempotent upserts) "
            f"| {i['raw_rows_per_s']:,.0f} (raw `executemany`) | {i['ratio']:.2f}x | >= 0.5x |",
            f"| `failedRuns` over HTTP, repeated (response cache), ms | {f['served_ms']:.2f} "
            f"| {f['raw_sql_ms']:.2f} (raw SQL) | {f['served_ratio']:.2f}x | <= 2x |",
            f"| `failedRuns` over HTTP, compiled path (no response cache), ms "
            f"| {f['compiled_ms']:.2f} | {f['raw_sql_ms']:.2f} (raw SQL) "
            f"| {f['compiled_ratio']:.2f}x | <= 2x |",
            f"| `failedRuns` through the general executor (no response cache), ms "
            f"| {f['executed_ms']:.2f} | {f['raw_sql_ms']:.2f} (raw SQL) "
            f"| {f['executed_ratio']:.2f}x | <= 2x |",
            f"| downstream lineage depth 10, ms | {g['tempox_ms_per_query']:.2f} "
            f"| {g['networkx_ms_per_query']:.2f} (raw networkx) | {g['ratio']:.2f}x | <= 1.5x |",
        ]
    )


if __name__ == "__main__":
    main()
