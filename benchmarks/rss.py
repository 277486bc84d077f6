"""The API process's memory over a large estate: RSS after the four headline questions.

``python -m benchmarks.rss [--scale 1.0] [--database sqlite|postgres]``

Takes the synthetic estate of ``python -m benchmarks`` at ``--scale`` (1.0: 1,000 pipelines x
1,000 runs x 5 tasks, 100,000 assets), written through ``Store.write_batch`` once and then kept
in ``.cache/bench/estates/`` (benchmarks/estate_cache.py; build one ahead with ``python -m
benchmarks.estate_cache 1.0``); on PostgreSQL its rows are copied into a fresh schema.
Starts the API in its own uvicorn process (as benchmarks/load.py does), asks ``FailedRuns``,
``Runs``, ``Assets`` (first 100) and ``Lineage`` (depth 5, which builds the in-memory lineage
graph) once each, and reads the server's RSS, peak RSS and their anonymous and file-backed
parts from ``/proc``; then, three times, posts an OpenLineage run that adds an edge and asks
``Lineage`` again (each rebuilds the graph), and reads them again. Target: at most 500 MB at
scale 1.0.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from benchmarks import estate_cache
from benchmarks.estate_cache import cached_estate, copy_to_postgres
from benchmarks.graphql_vs_plain import _body, _post
from benchmarks.load import Server, _proc_status
from benchmarks.load import _post as _post_raw

HERE = Path(__file__).resolve().parent
TARGET_MIB = 500
CHANGES = 3  # lineage changes after the questions, each followed by a lineage question


def bench_rss(database: str, scale: float) -> dict[str, Any]:
    from benchmarks.__main__ import estate_config

    config = estate_config(scale)
    # The copy goes beside the cache: the same file system, and room for gigabytes.
    estate_cache.CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tempox-rss-", dir=estate_cache.CACHE) as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        # Built once per scale and schema (benchmarks/estate_cache.py): 13M rows at scale 1.0.
        path, estate = cached_estate(scale, config, folder)
        with _estate_url(database, path) as url:
            prepared_s = time.perf_counter() - started
            uri = _first_asset_uri(url)
            server = Server(url, folder / "server.log", folder / "stats.json")
            try:
                server.start()
                idle = _memory(server.pid)
                questions: dict[str, dict[str, Any]] = {
                    "FailedRuns": {"first": 100, "since": "2000-01-01T00:00:00Z"},
                    "Runs": {"first": 100},
                    "Assets": {"first": 100},
                    "Lineage": {"node": {"asset": uri}, "depth": 5},
                }
                for name, variables in questions.items():
                    _ask(server.base, name, variables)
                after = _memory(server.pid)
                for i in range(CHANGES):
                    _change_lineage(server.base, i)
                    _ask(server.base, "Lineage", questions["Lineage"])
                changed = _memory(server.pid)
            finally:
                server.stop()
    return {
        "database": database,
        "scale": scale,
        "runs": estate["run"],
        "task_runs": estate["task_run"],
        "assets": estate["asset"],
        "lineage_edges": estate["lineage_edge"],
        "estate_cached": estate["cached"],
        "estate_build_s": estate["build_s"],
        "prepare_s": round(prepared_s, 1),
        "rss_mib_idle": idle["VmRSS"],
        "rss_mib_after": after["VmRSS"],
        "peak_rss_mib": after["VmHWM"],
        "anon_mib_after": after["RssAnon"],
        "file_mib_after": after["RssFile"],
        "rss_mib_after_changes": changed["VmRSS"],
        "peak_rss_mib_after_changes": changed["VmHWM"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


@contextmanager
def _estate_url(database: str, path: Path) -> Iterator[str]:
    """The database the API reads: the SQLite copy itself, or a fresh PostgreSQL schema the
    copy's rows are copied into with ``COPY`` (far quicker than writing the estate again)."""
    if database == "sqlite":
        yield f"sqlite:///{path}"
        return
    from benchmarks.__main__ import database as fresh_database

    with fresh_database("postgres", "rss") as url:
        copy_to_postgres(path, url)
        path.unlink()
        yield url


def _ask(base: str, name: str, variables: dict[str, Any], tries: int = 5) -> None:
    """One question, asked again while it times out: on a loaded machine building the graph
    of 100k assets can outlast the query timeout, and the build goes on in its thread."""
    for attempt in range(tries):
        try:
            _post(base, _body(name, variables))
            return
        except RuntimeError as exc:
            if "QUERY_TIMEOUT" not in str(exc) or attempt == tries - 1:
                raise


def _change_lineage(base: str, i: int) -> None:
    """One OpenLineage run that adds an edge: the next lineage question rebuilds the graph."""
    event = {
        "eventType": "COMPLETE",
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": "https://example.com/tempox-rss",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": "rss", "name": f"job{i}"},
        "inputs": [{"namespace": "s3://lake", "name": f"rss/in{i}"}],
        "outputs": [{"namespace": "s3://lake", "name": f"rss/out{i}"}],
    }
    status, answer = _post_raw(base, "/api/v1/lineage", json.dumps(event).encode())
    if status >= 300:
        raise RuntimeError(f"OpenLineage event: HTTP {status}: {answer[:500]!r}")


def _first_asset_uri(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            uri: str = conn.execute(text("SELECT uri FROM asset ORDER BY id LIMIT 1")).scalar_one()
            return uri
    finally:
        engine.dispose()


def _memory(pid: int) -> dict[str, float]:
    """The process's resident memory in MiB: all of it (VmRSS), its peak (VmHWM), and the part
    that is anonymous (heap: Python objects, SQLite's page cache) or file-backed (mapped code
    and data files, which the kernel can drop and read again)."""
    keys = ("VmRSS", "VmHWM", "RssAnon", "RssFile")
    return {key: round(_proc_status(pid, key) / 1024, 1) for key in keys}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.rss", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "rss.json")
    args = parser.parse_args(argv)
    result = bench_rss(args.database, args.scale)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(
        f"| API process RSS after the four questions, {result['runs']:,} runs, "
        f"{result['assets']:,} assets ({result['database']}) | {result['rss_mib_after']:.0f} MiB "
        f"(peak {result['peak_rss_mib']:.0f}; {result['rss_mib_after_changes']:.0f}, peak "
        f"{result['peak_rss_mib_after_changes']:.0f}, after {CHANGES} lineage changes) "
        f"| {result['rss_mib_idle']:.0f} MiB idle "
        f"| | <= {TARGET_MIB} MB at 1M runs |"
    )
    return result


if __name__ == "__main__":
    main()
